/* Unit tests for lib/stop.c: SIGTERM sets the flag, makes the eventfd readable and calls the hook;
 * a hook set after the signal still runs (the race the servers had). */
#include "tools/unit.h"
#include "lib/stop.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

static int hook_calls;
static void *hook_seen;

static void hook(void *arg)
{
	hook_calls++;
	hook_seen = arg;
}

static void signal_stops(void **state)
{
	assert_int_equal(stop_fd(), -1);
	assert_int_equal(stop_install(), 0);
	assert_true(stop_fd() >= 0);
	assert_false(stop_requested());
	struct pollfd p = { .fd = stop_fd(), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	int x;
	stop_on_request(hook, &x);
	assert_int_equal(hook_calls, 0);
	raise(SIGTERM); /* delivered before raise() returns: the handler ran */
	assert_true(stop_requested());
	assert_int_equal(atomic_load(stop_flag()), 1);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(hook_calls, 1);
	assert_ptr_equal(hook_seen, &x);
	raise(SIGINT); /* a second request: still stopped, the hook again */
	assert_int_equal(hook_calls, 2);
}

static void late_hook_runs(void **state)
{
	/* the flag is set by the test before: a hook set now is called at once */
	hook_calls = 0;
	stop_on_request(hook, NULL);
	assert_int_equal(hook_calls, 1);
	stop_on_request(NULL, NULL);
	stop_request();
	assert_int_equal(hook_calls, 1);
}

UNIT_MAIN(cmocka_unit_test(signal_stops), cmocka_unit_test(late_hook_runs))
