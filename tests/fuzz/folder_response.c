/* libFuzzer target: the folder client's reading of a 200's body
 * (pl_folder_parse_body in workloads/folder_client.h), fed bytes no
 * server would send.
 *
 * Input: the body, as is: JSON or not, NUL bytes and all, never
 * NUL-terminated (libFuzzer's buffer is exactly `size` bytes, so ASan
 * catches a read one byte past it).  The folder asked for is always 7.
 *
 * Each run checks what the parser promises:
 *   - the result is PL_FOLDER_OK, PL_FOLDER_MALFORMED, or PL_FOLDER_INVALID
 *     (only for a name too long for the buffer), and err->status says
 *     the same;
 *   - on success the name is non-empty, NUL-terminated inside the
 *     buffer, printable (no byte below 0x20, no 0x7f), and the message
 *     empty; a buffer one byte too small gives PL_FOLDER_INVALID and one
 *     exactly large enough gives the same name;
 *   - on failure the name is empty and the message one line of at most
 *     255 bytes, starting "folder 7: ";
 *   - the same bytes give the same answer twice.
 * Any broken promise aborts, and libFuzzer keeps the input.
 *
 * Built with -DFUZZ_SEED_MAIN the file is a program instead, which writes
 * the seed corpus (answers of the simulated server, each fault's body,
 * edge cases of JSON and UTF-8) into the directory it is given:
 * make fuzz-seeds.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folder_client.h"

#define FUZZ_TARGET "folder_response"
#include "fuzz_check.h"

#define ID 7
#define CAP 64

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char name[CAP], again[CAP];
	struct pl_folder_error e, e2;
	enum pl_folder_status st, st2;

	memset(name, 'x', sizeof(name));
	memset(&e, 0x5a, sizeof(e));
	st = pl_folder_parse_body(body, size, ID, name, sizeof(name), &e);
	CHECK(st == PL_FOLDER_OK || st == PL_FOLDER_MALFORMED || st == PL_FOLDER_INVALID);
	CHECK(e.status == st);
	check_text(e.message, sizeof(e.message));

	if (st == PL_FOLDER_OK) {
		size_t len = strnlen(name, sizeof(name));

		check_text(name, sizeof(name));
		CHECK(len > 0);
		CHECK(e.message[0] == '\0');
		/* The buffer's size is honoured to the byte. */
		CHECK(pl_folder_parse_body(body, size, ID, again, len, &e2) == PL_FOLDER_INVALID);
		CHECK(pl_folder_parse_body(body, size, ID, again, len + 1, &e2) == PL_FOLDER_OK);
		CHECK(strcmp(again, name) == 0);
	} else {
		CHECK(name[0] == '\0');
		CHECK(strncmp(e.message, "folder 7: ", 10) == 0);
	}

	st2 = pl_folder_parse_body(body, size, ID, again, sizeof(again), &e2);
	CHECK(st2 == st);
	CHECK(strcmp(e2.message, e.message) == 0);
	if (st == PL_FOLDER_OK)
		CHECK(strcmp(again, name) == 0);
	return 0;
}

#ifdef FUZZ_SEED_MAIN
/* The seeds: what the simulated server sends (a folder, every error
 * shape, each malformed body of --fault malformed, a truncated body),
 * and the edges the parser must get right. */
static const struct {
	const char *file;
	const char *body;
	size_t len;                     /* 0: strlen(body) */
} seeds[] = {
	{ "server-folder", "{\"name\":\"folders/7\",\"parent\":\"organizations/182139581653\","
	  "\"displayName\":\"Analytics Dev 016\",\"state\":\"ACTIVE\","
	  "\"createTime\":\"2016-03-01T10:00:00Z\",\"updateTime\":\"2016-05-01T10:00:00Z\","
	  "\"etag\":\"W/\\\"41cf5e89f6b1f154\\\"\"}", 0 },
	{ "minimal", "{\"name\":\"folders/7\",\"displayName\":\"Seven\"}", 0 },
	{ "whitespace", " \r\n\t{ \"displayName\" : \"Seven\" ,\n\"name\" : \"folders/7\" }\r\n", 0 },
	{ "unicode-escapes", "{\"name\":\"folders/7\",\"displayName\":\"Caf\\u00e9 \\ud83d\\ude00\"}", 0 },
	{ "utf8-raw", "{\"name\":\"folders/7\",\"displayName\":\"\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4\"}", 0 },
	{ "long-name", "{\"name\":\"folders/7\",\"displayName\":\"" "0123456789012345678901234567890123456789"
	  "01234567890123456789012345678901234567890123456789\"}", 0 },
	{ "duplicate-keys", "{\"name\":\"folders/8\",\"displayName\":\"A\",\"name\":\"folders/7\"}", 0 },
	{ "error-404", "{\"error\":{\"code\":404,\"message\":\"Folder 'folders/7' not found.\","
	  "\"status\":\"NOT_FOUND\"}}", 0 },
	{ "fault-cut", "{\"name\":\"folders/7\",\"displayName\":\"Fin", 0 },
	{ "fault-html", "<html><body><h1>502 Bad Gateway</h1></body></html>", 0 },
	{ "fault-array", "[\"folders/7\"]", 0 },
	{ "fault-null-name", "{\"name\":\"folders/7\",\"displayName\":null}", 0 },
	{ "fault-nul-in-name", "{\"name\":\"folders/7\",\"displayName\":\"Sales\\u0000Prod\"}", 0 },
	{ "truncated", "{\"name\":\"folders/7\",\"parent\":\"", 0 },
	{ "nul-after", "{\"name\":\"folders/7\",\"displayName\":\"Seven\"}\0{}", 45 },
	{ "two-values", "{\"name\":\"folders/7\",\"displayName\":\"A\"}{\"name\":\"folders/7\"}", 0 },
	{ "wrong-id", "{\"name\":\"folders/70\",\"displayName\":\"Seventy\"}", 0 },
	{ "control-char", "{\"name\":\"folders/7\",\"displayName\":\"a\\tb\"}", 0 },
	{ "bad-utf8", "{\"name\":\"folders/7\",\"displayName\":\"\xc0\xaf\xff\"}", 0 },
	{ "deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]", 0 },
	{ "numbers", "{\"name\":\"folders/7\",\"displayName\":1e999999,\"x\":-0.0e-0}", 0 },
	{ "empty", "", 0 },
};

int main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		size_t len = seeds[i].len ? seeds[i].len : strlen(seeds[i].body);
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", argv[1], seeds[i].file);
		f = fopen(path, "wb");
		if (!f || fwrite(seeds[i].body, 1, len, f) != len || fclose(f) != 0) {
			perror(path);
			return 1;
		}
		/* Each seed passes the checks before it is written. */
		LLVMFuzzerTestOneInput((const uint8_t *)seeds[i].body, len);
	}
	return 0;
}
#endif
