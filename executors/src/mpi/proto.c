/* The MPI backend's messages (proto.h): sending, taking, identities and
 * the back-off both sides poll with. */
#include "mpi/proto.h"

#include "base/clock.h"
#include "platform/platform.h"
#include "wire/le.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cf__mpi_send(MPI_Comm comm, int rank, int tag, uint64_t id, const void *a, size_t alen,
		 const void *b, size_t blen)
{
	size_t len = alen + blen + 8;
	unsigned char *buf;
	int rc;

	if (len > INT_MAX)
		return -1;
	buf = malloc(len);
	if (!buf)
		return -1;
	if (alen)
		memcpy(buf, a, alen);
	if (blen)
		memcpy(buf + alen, b, blen);
	cf__le_put_u64(buf + alen + blen, id);
	rc = MPI_Send(buf, (int)len, MPI_BYTE, rank, tag, comm);
	free(buf);
	return rc == MPI_SUCCESS ? 0 : -1;
}

int cf__mpi_take(MPI_Comm comm, int source, struct cf_mpi_msg *m)
{
	MPI_Message handle;
	MPI_Status status;
	int flag = 0, count = 0;

	if (MPI_Improbe(source, MPI_ANY_TAG, comm, &flag, &handle, &status) != MPI_SUCCESS)
		return -1;
	if (!flag)
		return 0;
	MPI_Get_count(&status, MPI_BYTE, &count);
	/* One byte more than asked, so that an empty body is still a
	 * buffer (malloc(0) may give NULL). */
	unsigned char *buf = malloc((size_t)count + 1);
	if (!buf || MPI_Mrecv(buf, count, MPI_BYTE, &handle, &status) != MPI_SUCCESS ||
	    count < 8) {
		free(buf);
		return -1;
	}
	m->tag = status.MPI_TAG;
	m->source = status.MPI_SOURCE;
	m->len = (size_t)count - 8;
	m->id = cf__le_get_u64(buf + m->len);
	m->body = buf;
	return 1;
}

void cf__mpi_identity_self(struct cf_mpi_identity *me, bool worker)
{
	const char *forged = worker ? getenv("CF_MPI_TEST_FORGE_BUILD_ID") : NULL;

	memset(me, 0, sizeof(*me));
	me->pid = (long)getpid();
	cf__machine_id(me->place, sizeof(me->place));
	if (gethostname(me->host, sizeof(me->host) - 1) != 0)
		snprintf(me->host, sizeof(me->host), "?");
	/* A test hook: a worker that claims another build, to check that
	 * the pool refuses it (tests/test_cf_mpi.c). */
	if (forged && *forged)
		snprintf(me->build, sizeof(me->build), "%s", forged);
	else if (!cf__build_id(me->build, sizeof(me->build)))
		snprintf(me->build, sizeof(me->build), "none");
}

static size_t put_text(unsigned char *out, const char *text)
{
	size_t n = strlen(text);

	cf__le_put_u16(out, (uint16_t)n);
	memcpy(out + 2, text, n);
	return 2 + n;
}

size_t cf__mpi_identity_put(const struct cf_mpi_identity *me, unsigned char *out, size_t size)
{
	size_t n = 4;

	if (size < 4 + 3 * 2 + sizeof(me->host) + sizeof(me->build) + sizeof(me->place))
		return 0;
	cf__le_put_u32(out, (uint32_t)me->pid);
	n += put_text(out + n, me->host);
	n += put_text(out + n, me->build);
	n += put_text(out + n, me->place);
	return n;
}

static bool get_text(const unsigned char **p, size_t *left, char *out, size_t size)
{
	if (*left < 2)
		return false;
	size_t n = cf__le_get_u16(*p);
	if (n >= size || *left < 2 + n)
		return false;
	memcpy(out, *p + 2, n);
	out[n] = '\0';
	*p += 2 + n;
	*left -= 2 + n;
	return true;
}

bool cf__mpi_identity_get(const unsigned char *body, size_t len, struct cf_mpi_identity *who)
{
	memset(who, 0, sizeof(*who));
	if (len < 4)
		return false;
	who->pid = (long)cf__le_get_u32(body);
	body += 4;
	len -= 4;
	return get_text(&body, &len, who->host, sizeof(who->host)) &&
	       get_text(&body, &len, who->build, sizeof(who->build)) &&
	       get_text(&body, &len, who->place, sizeof(who->place));
}

void cf__mpi_backoff_reset(struct cf_mpi_backoff *b)
{
	b->spin_until = cf__now() + b->spin_us * 1e-6;
	b->sleep_s = 0;
}

double cf__mpi_backoff_next(struct cf_mpi_backoff *b)
{
	double now = cf__now();

	if (b->sleep_s == 0 && now < b->spin_until)
		return 0;
	bool deep = b->deep && now - b->spin_until > CF_MPI_DEEP_IDLE_S;
	double most = deep ? CF_MPI_DEEP_SLEEP_S : CF_MPI_SLEEP_MAX_S;
	b->sleep_s = b->sleep_s == 0 ? CF_MPI_SLEEP_MIN_S : b->sleep_s * 2;
	if (b->sleep_s > most)
		b->sleep_s = most;
	return b->sleep_s;
}

const char *cf__mpi_error_text(int code, char *buf, size_t size)
{
	char text[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
		len = snprintf(text, sizeof(text), "MPI error %d", code);
	snprintf(buf, size, "%.*s", len, text);
	return buf;
}
