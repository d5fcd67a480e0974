/* where: prints "rank R of N on HOST ADDR" for every rank, so that a test
 * can see on which host each rank of an mpirun landed (issue 22,
 * tests/netns/two-hosts).  HOST is the UTS hostname, ADDR the first IPv4
 * address of an interface other than loopback ("-" when there is none):
 * on the two namespace hosts, the one address that tells them apart even
 * where both share one hostname.
 *
 * Each rank prints its own line; mpirun forwards them in any order.
 */
#define _GNU_SOURCE     /* getifaddrs, NI_MAXHOST */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <mpi.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The first non-loopback IPv4 address, as text, into buf. */
static void first_address(char *buf, size_t cap)
{
	struct ifaddrs *list, *it;

	snprintf(buf, cap, "-");
	if (getifaddrs(&list) != 0)
		return;
	for (it = list; it; it = it->ifa_next) {
		if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET ||
		    (it->ifa_flags & IFF_LOOPBACK))
			continue;
		struct sockaddr_in *in = (struct sockaddr_in *)it->ifa_addr;
		inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)cap);
		break;
	}
	freeifaddrs(list);
}

int main(int argc, char **argv)
{
	int rank, size;
	char host[256], addr[INET_ADDRSTRLEN];

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: mpirun [-n N] [--hostfile H] where\n"
		     "Prints \"rank R of N on HOST ADDR\" for every rank.");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "where: error: no arguments expected (try --help)\n");
		return 2;
	}
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	first_address(addr, sizeof(addr));
	printf("rank %d of %d on %s %s\n", rank, size, host, addr);
	fflush(stdout);
	/* A barrier: every rank reached the others over the network, which
	 * is what the two-host test is about, not only its own launch. */
	MPI_Barrier(MPI_COMM_WORLD);
	MPI_Finalize();
	return 0;
}
