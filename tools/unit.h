/* tools/unit.h: what every vcons unit test includes. cmocka wants its prerequisite headers first;
 * this header brings them in order and gives UNIT_MAIN, which runs one group of tests with TAP
 * output (the format tools/run-tests.sh counts). */
#ifndef VCONS_UNIT_H
#define VCONS_UNIT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define UNIT_MAIN(...)                                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		const struct CMUnitTest unit_tests__[] = { __VA_ARGS__ };                          \
		cmocka_set_message_output(CM_OUTPUT_TAP);                                          \
		return cmocka_run_group_tests_name(__FILE__, unit_tests__, NULL, NULL);            \
	}

#endif
