/* Frames (wire.h) over a stream file descriptor: a pipe or a Unix socket
 * between a process pool and a worker.  The transport half of the wire. */
#ifndef CF_FRAME_IO_H
#define CF_FRAME_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

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
};

/* Reads what fd (a socket, or an O_NONBLOCK pipe) has without waiting;
 * with wait_for_start, a socket's read waits for the first bytes of a
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
 * empty), never raising SIGPIPE: a dead peer gives CF_FRAME_IO_ERROR. */
enum cf_frame_status cf__frame_write(int fd, uint8_t type, uint64_t id,
				     const void *part1, size_t len1,
				     const void *part2, size_t len2);

#endif
