/* stub */
#include "harness/cmd.h"
int cmd__serve(int argc, char **argv) { return 1; }
