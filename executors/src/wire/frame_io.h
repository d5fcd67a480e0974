/* Frames (wire.h) over a stream file descriptor: the pipes between a
 * process pool and a worker, or a socket.  The transport half of the
 * wire. */
#ifndef CF_FRAME_IO_H
#define CF_FRAME_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

enum cf_frame_status {
	CF_FRAME_OK = 0,
	CF_FRAME_EOF,           /* the peer closed before a new frame began */
	CF_FRAME_IO_ERROR,      /* read/write failed (errno kept) */
	CF_FRAME_CORRUPT,       /* a bad header, or EOF inside a frame */
	CF_FRAME_NOMEM,
	CF_FRAME_AGAIN,         /* a reader has part of a frame: call again */
};

/* Reads frames in pieces, as bytes arrive, so that one peer that stops in
 * the middle of a frame never blocks the thread that serves many. */
struct cf_frame_reader {
	unsigned char header[CF_WIRE_HEADER_SIZE];
	size_t have;                    /* bytes of header, then of payload */
	bool in_payload;
	struct cf_wire_header h;
	unsigned char *payload;
	bool not_socket;                /* learned from the first read */
};

/* Reads what fd (a socket or a pipe) has without waiting; with
 * wait_for_start, a blocking descriptor's read waits for the first bytes of a
 * frame not begun yet (one system call where a poll and a read would be
 * two), but never for the rest of one.  CF_FRAME_OK: a whole frame is in
 * *h and *payload (malloc'ed, the caller's; NULL when empty) and the
 * reader is ready for the next; CF_FRAME_AGAIN: nothing complete yet;
 * otherwise the stream is finished or broken (EOF inside a frame is
 * CF_FRAME_CORRUPT with CF_WIRE_TRUNCATED). */
enum cf_frame_status cf__frame_read_some(int fd, struct cf_frame_reader *r, bool wait_for_start,
					 struct cf_wire_header *h, unsigned char **payload,
					 enum cf_wire_error *wire_error);
void cf__frame_reader_clear(struct cf_frame_reader *r);

/* What a blocking reader took from its descriptor beyond the frames it
 * returned so far.  One read takes whatever the descriptor holds, which
 * for a small frame is all of it and perhaps the next one too, instead of
 * a read for the header and another for the payload.  Zero it before the
 * first frame; use one per descriptor. */
struct cf_frame_inbuf {
	unsigned char data[4096];
	size_t start, end;              /* the unread bytes */
};

/* Reads one whole frame, waiting for it; *payload is malloc'ed (NULL when
 * empty) and belongs to the caller.  *wire_error says what was corrupt. */
enum cf_frame_status cf__frame_read(int fd, struct cf_frame_inbuf *in, struct cf_wire_header *h,
				    unsigned char **payload, enum cf_wire_error *wire_error);

/* Writes a frame whose payload is part1 followed by part2 (either may be
 * empty).  On a socket it never raises SIGPIPE: a dead peer gives
 * CF_FRAME_IO_ERROR.  On anything else it is a writev, which costs a
 * failed sendmsg more: use cf__frame_write_pipe. */
enum cf_frame_status cf__frame_write(int fd, uint8_t type, uint64_t id,
				     const void *part1, size_t len1,
				     const void *part2, size_t len2);

/* The same on a pipe, by writev alone.  The caller keeps SIGPIPE away
 * (the pool holds a read end of its own; a worker dies with its parent
 * anyway).  When fd is O_NONBLOCK and full, waits for room, and fails
 * with errno EPIPE if hangup_fd (-1: none) reports a hang-up meanwhile:
 * the pool passes the worker's result pipe, which hangs up when the
 * worker dies, so a writer never waits on a dead worker. */
enum cf_frame_status cf__frame_write_pipe(int fd, int hangup_fd, uint8_t type, uint64_t id,
					  const void *part1, size_t len1,
					  const void *part2, size_t len2);

#endif
