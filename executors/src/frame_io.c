#define _GNU_SOURCE
#include "frame_io.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* 0 when all of len was read, 1 at EOF before any byte, -1 on error or
 * EOF part way (then errno is 0). */
static int read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0) {
			errno = 0;
			return got == 0 ? 1 : -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

/* Waits until fd has bytes to read (or an end or error to report).  A
 * read that sleeps on a Unix socket is woken each time the peer takes
 * bytes this side sent, to be told there is room to write: with a request
 * and its answer crossing, that is a wake-up for nothing on every round
 * trip.  poll sleeps for POLLIN only. */
static void wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	/* poll skips a negative descriptor and would wait forever: leave
	 * it to the read to fail. */
	if (fd < 0)
		return;
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
}

/* Reads until in holds at least want (<= sizeof(in->data)) bytes, taking
 * whatever else is there too.  0 when it does; 1 at EOF with in empty; -1
 * on error or EOF with some bytes (then errno is 0). */
static int fill(int fd, struct cf_frame_inbuf *in, size_t want)
{
	if (in->end - in->start >= want)
		return 0;
	memmove(in->data, in->data + in->start, in->end - in->start);
	in->end -= in->start;
	in->start = 0;
	while (in->end < want) {
		wait_readable(fd);
		ssize_t n = read(fd, in->data + in->end, sizeof(in->data) - in->end);
		if (n > 0) {
			in->end += (size_t)n;
		} else if (n == 0) {
			errno = 0;
			return in->end == 0 ? 1 : -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

/* Takes up to len buffered bytes into dst; how many. */
static size_t take_buffered(struct cf_frame_inbuf *in, unsigned char *dst, size_t len)
{
	size_t n = in->end - in->start < len ? in->end - in->start : len;

	memcpy(dst, in->data + in->start, n);
	in->start += n;
	return n;
}

enum cf_frame_status cf__frame_read(int fd, struct cf_frame_inbuf *in, struct cf_wire_header *h,
				    unsigned char **payload, enum cf_wire_error *wire_error)
{
	unsigned char header[CF_WIRE_HEADER_SIZE];
	int rc;

	*payload = NULL;
	*wire_error = CF_WIRE_OK;
	rc = fill(fd, in, sizeof(header));
	if (rc == 1)
		return CF_FRAME_EOF;
	if (rc < 0)
		return errno ? CF_FRAME_IO_ERROR : (*wire_error = CF_WIRE_TRUNCATED, CF_FRAME_CORRUPT);
	take_buffered(in, header, sizeof(header));
	*wire_error = cf_wire_get_header(header, h);
	if (*wire_error != CF_WIRE_OK)
		return CF_FRAME_CORRUPT;
	if (h->length == 0)
		return CF_FRAME_OK;
	*payload = malloc(h->length);
	if (!*payload)
		return CF_FRAME_NOMEM;
	/* What did not come with the header is read straight into place. */
	size_t got = take_buffered(in, *payload, h->length);
	rc = got < h->length ? read_full(fd, *payload + got, h->length - got) : 0;
	if (rc != 0) {
		free(*payload);
		*payload = NULL;
		if (rc < 0 && errno)
			return CF_FRAME_IO_ERROR;
		*wire_error = CF_WIRE_TRUNCATED;
		return CF_FRAME_CORRUPT;
	}
	return CF_FRAME_OK;
}

/* One read that does not wait, unless wait is set: bytes read, 0 at EOF,
 * -1 when none are there now (errno EAGAIN) or on error.  recv with
 * MSG_DONTWAIT on a socket, whose blocking mode the writers share; read()
 * on anything else, which must then be O_NONBLOCK to not wait. */
static ssize_t read_now(int fd, void *buf, size_t len, bool wait)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, wait ? 0 : MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ENOTSOCK)
		do
			n = read(fd, buf, len);
		while (n < 0 && errno == EINTR);
	return n;
}

void cf__frame_reader_clear(struct cf_frame_reader *r)
{
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

enum cf_frame_status cf__frame_read_some(int fd, struct cf_frame_reader *r, bool wait_for_start,
					 struct cf_wire_header *h, unsigned char **payload,
					 enum cf_wire_error *wire_error)
{
	*wire_error = CF_WIRE_OK;
	*payload = NULL;
	for (;;) {
		unsigned char *dst = r->in_payload ? r->payload + r->have : r->header + r->have;
		size_t want = r->in_payload ? r->h.length - r->have : CF_WIRE_HEADER_SIZE - r->have;

		if (want > 0) {
			bool wait = wait_for_start && !r->in_payload && r->have == 0;
			ssize_t n = read_now(fd, dst, want, wait);
			if (n < 0)
				return errno == EAGAIN || errno == EWOULDBLOCK ? CF_FRAME_AGAIN
									      : CF_FRAME_IO_ERROR;
			if (n == 0) {
				if (!r->in_payload && r->have == 0)
					return CF_FRAME_EOF;
				*wire_error = CF_WIRE_TRUNCATED;
				return CF_FRAME_CORRUPT;
			}
			r->have += (size_t)n;
			if ((size_t)n < want)
				continue;
		}
		if (!r->in_payload) {
			*wire_error = cf_wire_get_header(r->header, &r->h);
			if (*wire_error != CF_WIRE_OK)
				return CF_FRAME_CORRUPT;
			r->in_payload = true;
			r->have = 0;
			if (r->h.length) {
				r->payload = malloc(r->h.length);
				if (!r->payload)
					return CF_FRAME_NOMEM;
				continue;
			}
		}
		/* A whole frame: hand it over and start afresh. */
		*h = r->h;
		*payload = r->payload;
		r->payload = NULL;
		r->in_payload = false;
		r->have = 0;
		return CF_FRAME_OK;
	}
}

/* sendmsg with MSG_NOSIGNAL on a socket; plain writev on anything else
 * (where the caller must have SIGPIPE handled). */
static ssize_t send_iov(int fd, struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

	if (n < 0 && errno == ENOTSOCK)
		n = writev(fd, iov, iovcnt);
	return n;
}

enum cf_frame_status cf__frame_write(int fd, uint8_t type, uint64_t id,
				     const void *part1, size_t len1,
				     const void *part2, size_t len2)
{
	unsigned char header[CF_WIRE_HEADER_SIZE];
	struct iovec iov[3];
	int iovcnt = 0;

	if (len1 + len2 > CF_WIRE_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return CF_FRAME_IO_ERROR;
	}
	cf_wire_put_header(header, type, id, (uint32_t)(len1 + len2));
	iov[iovcnt++] = (struct iovec){ header, sizeof(header) };
	if (len1)
		iov[iovcnt++] = (struct iovec){ (void *)part1, len1 };
	if (len2)
		iov[iovcnt++] = (struct iovec){ (void *)part2, len2 };

	struct iovec *v = iov;
	while (iovcnt > 0) {
		ssize_t n = send_iov(fd, v, iovcnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return CF_FRAME_IO_ERROR;
		}
		/* Skip what was written, possibly part of an iovec. */
		while (iovcnt > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			v->iov_base = (unsigned char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return CF_FRAME_OK;
}
