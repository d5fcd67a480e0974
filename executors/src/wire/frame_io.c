#include "wire/frame_io.h"

#include "platform/platform.h"

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
 * MSG_DONTWAIT on a socket, whose blocking mode the writers share; a
 * pipe is read by cf__read_pipe_nowait or, to wait, read().  The reader learns
 * which its descriptor is from the first recv. */
static ssize_t read_now(int fd, struct cf_frame_reader *r, void *buf, size_t len, bool wait)
{
	ssize_t n = -1;

	if (!r->not_socket) {
		do
			n = recv(fd, buf, len, wait ? 0 : MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		r->not_socket = true;
	}
	do
		n = wait ? read(fd, buf, len) : cf__read_pipe_nowait(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

void cf__frame_reader_clear(struct cf_frame_reader *r)
{
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

/* Reads what is missing of the part of the frame r is in (header or
 * payload): CF_FRAME_OK with *whole set once that part is complete, or
 * unset after a short read (worth another read at once); CF_FRAME_AGAIN
 * when nothing is there now. */
static enum cf_frame_status fill_part(int fd, struct cf_frame_reader *r, bool wait_for_start,
				      bool *whole, enum cf_wire_error *wire_error)
{
	unsigned char *dst = r->in_payload ? r->payload + r->have : r->header + r->have;
	size_t want = r->in_payload ? r->h.length - r->have : CF_WIRE_HEADER_SIZE - r->have;

	*whole = true;
	if (want == 0)
		return CF_FRAME_OK;
	bool wait = wait_for_start && !r->in_payload && r->have == 0;
	ssize_t n = read_now(fd, r, dst, want, wait);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? CF_FRAME_AGAIN : CF_FRAME_IO_ERROR;
	if (n == 0) {
		if (!r->in_payload && r->have == 0)
			return CF_FRAME_EOF;
		*wire_error = CF_WIRE_TRUNCATED;
		return CF_FRAME_CORRUPT;
	}
	r->have += (size_t)n;
	*whole = (size_t)n == want;
	return CF_FRAME_OK;
}

/* The header is whole: checks it and makes room for the payload. */
static enum cf_frame_status start_payload(struct cf_frame_reader *r,
					  enum cf_wire_error *wire_error)
{
	*wire_error = cf_wire_get_header(r->header, &r->h);
	if (*wire_error != CF_WIRE_OK)
		return CF_FRAME_CORRUPT;
	r->in_payload = true;
	r->have = 0;
	if (r->h.length && !(r->payload = malloc(r->h.length)))
		return CF_FRAME_NOMEM;
	return CF_FRAME_OK;
}

enum cf_frame_status cf__frame_read_some(int fd, struct cf_frame_reader *r, bool wait_for_start,
					 struct cf_wire_header *h, unsigned char **payload,
					 enum cf_wire_error *wire_error)
{
	enum cf_frame_status st;
	bool whole;

	*wire_error = CF_WIRE_OK;
	*payload = NULL;
	for (;;) {
		st = fill_part(fd, r, wait_for_start, &whole, wire_error);
		if (st != CF_FRAME_OK)
			return st;
		if (!whole)
			continue;       /* a short read: try again at once */
		if (!r->in_payload) {
			st = start_payload(r, wire_error);
			if (st != CF_FRAME_OK)
				return st;
			if (r->h.length)
				continue;
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

/* Waits until the O_NONBLOCK pipe fd has room, or hangup_fd (when >= 0)
 * reports a hang-up: the pipe's reader died.  poll reports POLLHUP even
 * when not asked for it, so hangup_fd is watched for nothing else.
 * False, with errno EPIPE, on a hang-up. */
static bool wait_writable(int fd, int hangup_fd)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLOUT }, { .fd = hangup_fd } };

	for (;;) {
		int n = poll(pfd, hangup_fd >= 0 ? 2 : 1, -1);
		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0 && pfd[1].revents) {
			errno = EPIPE;
			return false;
		}
		if (n > 0)
			return true;    /* room, or an error the write will say */
	}
}

/* Writes header + part1 + part2 to fd, by sendmsg or writev on a socket
 * (socket true), by writev alone on a pipe. */
static enum cf_frame_status write_frame(int fd, bool socket, int hangup_fd, uint8_t type,
					uint64_t id, const void *part1, size_t len1,
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
		ssize_t n = socket ? send_iov(fd, v, iovcnt) : writev(fd, v, iovcnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !socket && wait_writable(fd, hangup_fd))
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

enum cf_frame_status cf__frame_write(int fd, uint8_t type, uint64_t id,
				     const void *part1, size_t len1,
				     const void *part2, size_t len2)
{
	return write_frame(fd, true, -1, type, id, part1, len1, part2, len2);
}

enum cf_frame_status cf__frame_write_pipe(int fd, int hangup_fd, uint8_t type, uint64_t id,
					  const void *part1, size_t len1,
					  const void *part2, size_t len2)
{
	return write_frame(fd, false, hangup_fd, type, id, part1, len1, part2, len2);
}
