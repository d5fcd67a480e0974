/* spin-calibrate: measures the spin rate once, so that a harness can
 *	export PARLAB_SPIN_PER_US=$(build/workloads/spin-calibrate)
 * and the programs it runs skip their own 20 ms calibration.  It always
 * measures: the environment variable is what it produces, not an input.
 */
#include <stdio.h>
#include <string.h>

#include "spin.h"

static const char *const name = "spin-calibrate";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s\n"
		"Prints the calibrated CPU spin rate (loop iterations per "
		"microsecond) used by --work-us.\n"
		"Typical use: export PARLAB_SPIN_PER_US=$(%s)\n"
		"\nOptions:\n"
		"  -h, --help   show this help and exit\n"
		"\nExit status: 0 success, 2 bad usage.\n", name, name);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "%s: error: unexpected argument '%s' (try --help)\n",
			name, argv[1]);
		return 2;
	}
	printf("%.3f\n", pl_spin_calibrate());
	return 0;
}
