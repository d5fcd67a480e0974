/* The Korean course, docs/ko/ (suite "ko"):
 *
 * - Emphasis renders, and keeps its particle.  Korean attaches a particle
 *   to the word before it, emphasised or not: `*복사본*을`, never
 *   `*복사본* 을`, which reads as a spacing mistake.  Attaching is not
 *   always enough: in CommonMark a closing `*` that follows punctuation
 *   closes only when whitespace or punctuation comes next, so
 *   `*실행기(executor)*는` shows its asterisks; the parenthesis goes
 *   outside, `*실행기*(executor)는`.  The check runs CommonMark's own
 *   delimiter rules (flanking, the rule of 3, nearest opener) on every
 *   paragraph, list item and table cell outside code, and reports a run
 *   of `*` or `_` that stays unmatched (it would show as is) and a closed
 *   emphasis followed by a space (or a line break, which renders as one)
 *   and a particle.  Code spans are not emphasis and are not checked:
 *   `` `cf_submit`이 `` and `` `cf_submit` 이 `` render the same way.
 * - No term that the glossary (docs/ko/용어.md, section "쓰지 않는 말")
 *   bans appears at the start of a word in any other docs/ko file.
 * - The glossary is linked from docs/ko/README.md, and every exercise in
 *   docs/exercises/ has its Korean page in docs/ko/exercises/, linked from
 *   there and linking its English original; the Korean exercises index
 *   quotes the same sample run as the English one (which docs::exercise
 *   holds to the real output).
 *
 * The checks are tried on bad and good lines first, so that a check that
 * could never fail fails here.  Runs from the top of the repository.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"

#define KO_DIR "docs/ko"
#define GLOSSARY "용어.md"
#define BAN_SECTION "## 쓰지 않는 말"

/* --- findings: a growing text, one line each ------------------------------ */

struct findings {
	char *text;
	size_t len, cap;
	int count;
};

static void note(struct findings *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct findings *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (f->len + n + 2 > f->cap) {
		f->cap = (f->len + n + 2) * 2;
		f->text = realloc(f->text, f->cap);
		if (!f->text)
			abort();
	}
	memcpy(f->text + f->len, line, n);
	f->len += n;
	f->text[f->len++] = '\n';
	f->text[f->len] = '\0';
	f->count++;
}

static void findings_free(struct findings *f)
{
	free(f->text);
	*f = (struct findings){ 0 };
}

/* --- characters ------------------------------------------------------------ */

/* The code point at s (UTF-8), its length in *len; a bad byte is itself. */
static uint32_t decode(const char *s, int *len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*len = 1;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
		*len = 2;
		return (u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	}
	if ((u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80) {
		*len = 3;
		return (u[0] & 0x0f) << 12 | (u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	}
	if ((u[0] & 0xf8) == 0xf0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80 &&
	    (u[3] & 0xc0) == 0x80) {
		*len = 4;
		return (u[0] & 0x07) << 18 | (u[1] & 0x3f) << 12 | (u[2] & 0x3f) << 6 | (u[3] & 0x3f);
	}
	*len = 1;
	return u[0];
}

/* The code point that ends just before s, or ' ' at start. */
static uint32_t before(const char *start, const char *s)
{
	if (s <= start)
		return '\n';
	const char *p = s - 1;
	while (p > start && ((unsigned char)*p & 0xc0) == 0x80)
		p--;
	int len;
	return decode(p, &len);
}

static uint32_t after(const char *s)
{
	int len;
	return *s ? decode(s, &len) : '\n';
}

static bool is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0xa0 ||
	       c == 0x3000 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f;
}

/* CommonMark's "Unicode punctuation" (P and S categories): ASCII
 * punctuation and the blocks of punctuation and symbols a Korean text
 * uses (Latin-1 signs, general punctuation, arrows, maths, CJK
 * punctuation, full-width forms).  Hangul and other letters are not. */
static bool is_punct(uint32_t c)
{
	if (c < 0x80)
		return c > 0x20 && c < 0x7f && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
						  (c >= 'A' && c <= 'Z'));
	return (c >= 0xa1 && c <= 0xbf && c != 0xaa && c != 0xb2 && c != 0xb3 && c != 0xb5 &&
		c != 0xb9 && c != 0xba && c != 0xbc && c != 0xbd && c != 0xbe) ||
	       c == 0xd7 || c == 0xf7 || (c >= 0x2010 && c <= 0x2027) ||
	       (c >= 0x2030 && c <= 0x205e) || (c >= 0x2190 && c <= 0x23ff) ||
	       (c >= 0x25a0 && c <= 0x27bf) || (c >= 0x3001 && c <= 0x3003) ||
	       (c >= 0x3008 && c <= 0x3011) || (c >= 0x3014 && c <= 0x301f) ||
	       (c >= 0xff01 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) ||
	       (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65);
}

static bool is_hangul(uint32_t c)
{
	return (c >= 0xac00 && c <= 0xd7a3) || (c >= 0x1100 && c <= 0x11ff) ||
	       (c >= 0x3130 && c <= 0x318f);
}

static bool is_word_char(uint32_t c)
{
	return is_hangul(c) || (c < 0x80 && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
					     (c >= 'A' && c <= 'Z')));
}

/* Particles and copula forms that attach to the word before them. */
static const char *const particles[] = {
	"은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "에는", "에도", "에서는",
	"와", "과", "와의", "과의", "로", "으로", "로는", "으로는", "로서", "으로서", "도", "만",
	"까지", "부터", "처럼", "보다", "마다", "이나", "나", "이란", "란", "이라는", "라는",
	"이라고", "라고", "이다", "입니다", "이고", "이며", "이지만", "이면", "이라면", "인",
	"였습니다", "이었습니다", "으로도", "로도", "만큼", "뿐", "뿐입니다", NULL,
};

/* The particle that s starts with, ended by a non-Hangul character. */
static const char *particle_at(const char *s)
{
	const char *end = s;
	int len;

	while (*end && is_hangul(decode(end, &len)))
		end += len;
	size_t n = end - s;
	if (n == 0)
		return NULL;
	for (int i = 0; particles[i]; i++)
		if (strlen(particles[i]) == n && memcmp(particles[i], s, n) == 0)
			return particles[i];
	return NULL;
}

/* --- emphasis: CommonMark's delimiter runs ---------------------------------- */

struct delim {
	const char *at;         /* first byte of the run */
	char ch;                /* '*' or '_' */
	int orig, count;        /* length, and what is left unmatched */
	bool can_open, can_close, closed_something;
};

struct unit {
	const char *name;       /* file, for messages */
	const char *text;       /* the whole file */
	struct findings *out;
};

static int line_of(const struct unit *u, const char *p)
{
	int line = 1;
	for (const char *q = u->text; q < p; q++)
		line += *q == '\n';
	return line;
}

/* A short copy of the line around p, for messages. */
static void context(const struct unit *u, const char *p, char *buf, size_t size)
{
	const char *a = p, *b = p;
	while (a > u->text && a[-1] != '\n' && p - a < 60)
		a--;
	while (*b && *b != '\n' && b - p < 60)
		b++;
	while (a < p && ((unsigned char)*a & 0xc0) == 0x80)
		a++;
	while (b > p && *b && ((unsigned char)*b & 0xc0) == 0x80)
		b--;
	snprintf(buf, size, "%.*s", (int)(b - a), a);
}

/* CommonMark's "process emphasis" on one inline segment's runs, then the
 * two reports. */
static void process(const struct unit *u, struct delim *d, int n)
{
	for (int c = 0; c < n; c++) {
		while (d[c].can_close && d[c].count > 0) {
			int o;
			for (o = c - 1; o >= 0; o--) {
				if (d[o].ch != d[c].ch || !d[o].can_open || d[o].count == 0)
					continue;
				bool both = d[o].can_close || d[c].can_open;
				if (both && (d[o].orig + d[c].orig) % 3 == 0 &&
				    !(d[o].orig % 3 == 0 && d[c].orig % 3 == 0))
					continue;
				break;
			}
			if (o < 0)
				break;
			int use = d[o].count >= 2 && d[c].count >= 2 ? 2 : 1;
			d[o].count -= use;
			d[c].count -= use;
			d[c].closed_something = true;
			/* Runs between the pair leave the stack: they show as is. */
			for (int k = o + 1; k < c; k++)
				d[k].can_open = d[k].can_close = false;
		}
	}
	for (int i = 0; i < n; i++) {
		char ctx[256];
		if (d[i].count > 0) {
			context(u, d[i].at, ctx, sizeof(ctx));
			note(u->out, "%s:%d: '%.*s' %s, so it shows as is (a closing '%c' after "
			     "punctuation such as ')' closes only before a space or punctuation: write "
			     "*실행기*(executor)는, not *실행기(executor)*는): %s",
			     u->name, line_of(u, d[i].at), d[i].orig, d[i].at,
			     d[i].can_open ? "opens emphasis that nothing closes" : "closes no emphasis",
			     d[i].ch, ctx);
		}
		if (d[i].closed_something && d[i].count == 0) {
			const char *p = d[i].at + d[i].orig;
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '\n') {
				q++;
				while (*q == ' ' || *q == '\t')
					q++;
			}
			/* After a full stop, a colon or '!' a new sentence starts:
			 * "**해롭습니다.** 이 장을" has no particle. */
			char last = d[i].at[-1];
			bool sentence_end = last == '.' || last == ':' || last == '!';
			const char *part = q > p && !sentence_end ? particle_at(q) : NULL;
			if (part) {
				context(u, d[i].at, ctx, sizeof(ctx));
				note(u->out, "%s:%d: emphasis followed by a space and the particle '%s' "
				     "(attach it: ...%.*s%s): %s",
				     u->name, line_of(u, d[i].at), part, d[i].orig, d[i].at, part, ctx);
			}
		}
	}
}

/* Scans one inline segment [s, end): code spans, escapes, raw HTML and
 * link destinations are skipped; '|' ends a table cell when cells is set. */
static void scan_inline(const struct unit *u, const char *s, const char *end, bool cells)
{
	struct delim d[512];
	int n = 0;
	const char *p = s;

	while (p < end) {
		if (*p == '\\' && p + 1 < end && is_punct((unsigned char)p[1])) {
			p += 2;
			continue;
		}
		if (*p == '`') {
			const char *q = p;
			while (q < end && *q == '`')
				q++;
			size_t ticks = q - p;
			const char *r = q;
			bool found = false;
			while (r < end) {
				if (*r == '`') {
					const char *t = r;
					while (t < end && *t == '`')
						t++;
					if ((size_t)(t - r) == ticks) {
						p = t;
						found = true;
						break;
					}
					r = t;
				} else {
					r++;
				}
			}
			if (!found)
				p = q;
			continue;
		}
		if (*p == '<') {
			const char *close = NULL;
			if (strncmp(p, "<!--", 4) == 0)
				close = strstr(p + 4, "-->");
			else if (p + 1 < end && (p[1] == '/' || (p[1] >= 'a' && p[1] <= 'z') ||
						 (p[1] >= 'A' && p[1] <= 'Z')))
				close = memchr(p, '>', end - p);
			if (close && close < end) {
				p = close + (close[0] == '-' ? 3 : 1);
				continue;
			}
		}
		if (*p == ']' && p + 1 < end && p[1] == '(') {
			const char *close = memchr(p, ')', end - p);
			if (close) {
				p = close + 1;
				continue;
			}
		}
		if (cells && *p == '|') {
			process(u, d, n);
			n = 0;
			p++;
			continue;
		}
		if (*p == '*' || *p == '_') {
			const char *q = p;
			while (q < end && *q == *p)
				q++;
			uint32_t prev = before(u->text, p), next = q < end ? after(q) : '\n';
			bool left = !is_space(next) && (!is_punct(next) || is_space(prev) || is_punct(prev));
			bool right = !is_space(prev) && (!is_punct(prev) || is_space(next) || is_punct(next));
			bool open = left, close = right;
			if (*p == '_') {
				open = left && (!right || is_punct(prev));
				close = right && (!left || is_punct(next));
			}
			if ((open || close) && n < (int)(sizeof(d) / sizeof(d[0])))
				d[n++] = (struct delim){ p, *p, (int)(q - p), (int)(q - p), open, close, false };
			p = q;
			continue;
		}
		p++;
	}
	process(u, d, n);
}

static const char *skip_indent(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A line that starts a block of its own: heading, table row, list item,
 * block quote.  *body is where its inline text starts. */
static bool starts_block(const char *line, const char **body, bool *table)
{
	const char *s = skip_indent(line);
	*table = false;
	*body = s;
	if (*s == '#' || *s == '>') {
		while (*s == '#' || *s == '>')
			s++;
		*body = s;
		return true;
	}
	if (*s == '|') {
		*table = true;
		return true;
	}
	if ((*s == '-' || *s == '*' || *s == '+') && (s[1] == ' ' || s[1] == '\t')) {
		*body = s + 2;
		return true;
	}
	const char *t = s;
	while (*t >= '0' && *t <= '9')
		t++;
	if (t > s && t - s < 10 && (*t == '.' || *t == ')') && (t[1] == ' ' || t[1] == '\t')) {
		*body = t + 2;
		return true;
	}
	return false;
}

/* Every paragraph, list item, heading and table cell of a Markdown text,
 * outside fenced blocks and HTML comment blocks. */
static void check_emphasis(const char *name, const char *text, struct findings *out)
{
	struct unit u = { name, text, out };
	const char *p = text;
	const char *para = NULL;        /* start of the open paragraph's inline text */
	char fence = 0;
	size_t fence_len = 0;
	bool in_comment = false;

	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		const char *s = skip_indent(p);
		bool blank = s == eol;

		if (in_comment) {
			const char *close = strstr(p, "-->");
			if (close && close < eol)
				in_comment = false;
		} else if (fence) {
			size_t k = 0;
			while (s[k] == fence)
				k++;
			if (k >= fence_len && skip_indent(s + k) == eol)
				fence = 0;
		} else if ((*s == '`' || *s == '~') && s[1] == *s && s[2] == *s) {
			if (para)
				scan_inline(&u, para, p, false);
			para = NULL;
			fence = *s;
			fence_len = 0;
			while (s[fence_len] == fence)
				fence_len++;
		} else if (strncmp(s, "<!--", 4) == 0) {
			if (para)
				scan_inline(&u, para, p, false);
			para = NULL;
			const char *close = strstr(s, "-->");
			if (!close || close > eol)
				in_comment = true;
		} else if (blank) {
			if (para)
				scan_inline(&u, para, p, false);
			para = NULL;
		} else {
			const char *body;
			bool table;
			if (starts_block(p, &body, &table)) {
				if (para)
					scan_inline(&u, para, p, false);
				para = NULL;
				if (table || *s == '#') {
					scan_inline(&u, body, eol, table);
				} else {
					para = body;
				}
			} else if (!para) {
				para = s;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	if (para)
		scan_inline(&u, para, p, false);
}

/* --- banned terms ------------------------------------------------------------ */

struct bans {
	char term[64][64];
	char instead[64][128];
	int n;
};

/* The rows of the glossary's section BAN_SECTION: | term | instead | why |. */
static void read_bans(const char *glossary, struct bans *b)
{
	const char *sec = strstr(glossary, "\n" BAN_SECTION "\n");
	b->n = 0;
	if (!sec)
		return;
	const char *p = strchr(sec + 1, '\n') + 1;
	int row = 0;
	while (*p && strncmp(p, "## ", 3) != 0) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if (*p == '|' && row++ >= 2 && b->n < 64) {
			const char *c1 = p + 1, *e1 = memchr(c1, '|', eol - c1);
			if (e1) {
				const char *c2 = e1 + 1, *e2 = memchr(c2, '|', eol - c2);
				while (*c1 == ' ')
					c1++;
				while (e1 > c1 && e1[-1] == ' ')
					e1--;
				snprintf(b->term[b->n], sizeof(b->term[0]), "%.*s", (int)(e1 - c1), c1);
				if (e2) {
					while (*c2 == ' ')
						c2++;
					while (e2 > c2 && e2[-1] == ' ')
						e2--;
					snprintf(b->instead[b->n], sizeof(b->instead[0]), "%.*s", (int)(e2 - c2), c2);
				} else {
					b->instead[b->n][0] = '\0';
				}
				if (b->term[b->n][0])
					b->n++;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
}

/* Each banned term at the start of a word of text. */
static void check_bans(const char *name, const char *text, const struct bans *b, struct findings *out)
{
	struct unit u = { name, text, out };

	for (int i = 0; i < b->n; i++) {
		size_t len = strlen(b->term[i]);
		for (const char *p = strstr(text, b->term[i]); p; p = strstr(p + len, b->term[i])) {
			if (is_word_char(before(text, p)))
				continue;
			char ctx[256];
			context(&u, p, ctx, sizeof(ctx));
			note(out, "%s:%d: '%s' is not used in docs/ko (용어.md: write '%s'): %s", name,
			     line_of(&u, p), b->term[i], b->instead[i], ctx);
		}
	}
}

/* --- the files ---------------------------------------------------------------- */

struct md_files {
	char path[128][512];
	int n;
};

static void collect(const char *dir, struct md_files *m)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && m->n < 128) {
		char path[512];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		size_t len = strlen(e->d_name);
		if (S_ISDIR(st.st_mode))
			collect(path, m);
		else if (len > 3 && strcmp(e->d_name + len - 3, ".md") == 0)
			snprintf(m->path[m->n++], sizeof(m->path[0]), "%s", path);
	}
	closedir(d);
}

/* --- the checks tried on lines whose answer is known --------------------------- */

static int emphasis_findings(const char *text)
{
	struct findings f = { 0 };
	check_emphasis("sample.md", text, &f);
	int n = f.count;
	if (n)
		cr_log_info("%s", f.text);
	findings_free(&f);
	return n;
}

Test(ko, checks_catch_bad_lines)
{
	static const char *const bad[] = {
		"**한 문장으로:** *실행기(executor)* 는 작업자를 관리합니다.\n",
		"자식은 부모 메모리의 *복사본* 을 받습니다.\n",
		"*실행기(executor)*는 작업자를 관리합니다.\n",
		"다르면 **어긋남(drift)** 입니다.\n",
		"다르면 **어긋남(drift)**입니다.\n",
		"캐시는 id를 그 *퓨처*\n에 대응시킵니다.\n",
		"- 목록 안에서도 *스케줄(schedule)* 입니다.\n",
		"| 표 | *셀(cell)*은 |\n",
		"정하는 _스케줄_은 같습니다.\n",
		"  1. 번호 목록의 **예약** 을 봅니다.\n",
		"질문은 *격리가 필요한가?* 가 됩니다.\n",
		"질문은 *격리가 필요한가?*가 됩니다.\n",
	};
	static const char *const good[] = {
		"**한 문장으로:** *실행기*(executor)는 작업자를 관리합니다.\n",
		"자식은 부모 메모리의 *복사본*을 받습니다.\n",
		"다르면 **어긋남**(drift)입니다.\n",
		"연결하는 *대기자*(waiter) 객체와 *퓨처* 하나.\n",
		"`cf_submit` 은 코드이므로 검사하지 않습니다.\n",
		"곱하기는 `a * b`이고, 2 * 3 도 강조가 아닙니다.\n",
		"```\n*복사본* 을 받는 코드 블록\n```\n",
		"<!-- include: a.c:/x\\*/ -->\n",
		"식별자 raw_threads 와 PARLAB_TEST_CRASH_WORKER 는 강조가 아닙니다.\n",
		"[링크](../exercises/01_x_/README.md)와 **굵게**를 씁니다.\n",
		"**여러 줄에 걸친\n강조**도 닫힙니다.\n",
		"- **바쁜 머신은 더 해롭습니다.** 이 장을 쓰는 동안\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_gt(emphasis_findings(bad[i]), 0, "the check misses a bad line: %s", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(emphasis_findings(good[i]), 0, "the check refuses a good line: %s", good[i]);

	struct bans b = { .n = 2 };
	strcpy(b.term[0], "워커");
	strcpy(b.instead[0], "작업자");
	strcpy(b.term[1], "맨 작업");
	strcpy(b.instead[1], "빈 작업");
	struct findings f = { 0 };
	check_bans("sample.md", "워커가 맨 작업을 합니다. (워커)\n", &b, &f);
	cr_assert_eq(f.count, 3, "three banned words, found %d:\n%s", f.count, f.text ? f.text : "");
	findings_free(&f);
	check_bans("sample.md", "네트워커와 작업자가 빈 작업을 합니다.\n", &b, &f);
	cr_assert_eq(f.count, 0, "a banned term inside a word is not the term:\n%s", f.text ? f.text : "");
	findings_free(&f);
}

/* --- the checks on docs/ko ------------------------------------------------------ */

Test(ko, emphasis_renders_and_keeps_its_particle)
{
	struct md_files m = { .n = 0 };
	struct findings f = { 0 };

	collect(KO_DIR, &m);
	cr_assert_geq(m.n, 11, "docs/ko should hold the nine chapters, README.md and " GLOSSARY
		      " (found %d .md files; run from the top of the repository)", m.n);
	for (int i = 0; i < m.n; i++) {
		char *text = read_whole_file(m.path[i], NULL);
		cr_assert(text, "cannot read %s", m.path[i]);
		check_emphasis(m.path[i], text, &f);
		free(text);
	}
	cr_assert_eq(f.count, 0, "%d emphasis problem(s) in docs/ko (see docs/ko/" GLOSSARY
		      ", \"표기 원칙\"):\n%s", f.count, f.text);
	findings_free(&f);
}

Test(ko, glossary_terms_are_used)
{
	struct md_files m = { .n = 0 };
	struct findings f = { 0 };
	struct bans b;

	char *glossary = read_whole_file(KO_DIR "/" GLOSSARY, NULL);
	cr_assert(glossary, "no " KO_DIR "/" GLOSSARY);
	read_bans(glossary, &b);
	free(glossary);
	cr_assert_geq(b.n, 10, "the glossary's section \"" BAN_SECTION "\" should list the banned "
		      "terms in a table (| term | instead | why |); read %d", b.n);

	collect(KO_DIR, &m);
	for (int i = 0; i < m.n; i++) {
		const char *base = strrchr(m.path[i], '/') + 1;
		if (strcmp(m.path[i], KO_DIR "/" GLOSSARY) == 0 || strcmp(base, GLOSSARY) == 0)
			continue;
		char *text = read_whole_file(m.path[i], NULL);
		cr_assert(text, "cannot read %s", m.path[i]);
		check_bans(m.path[i], text, &b, &f);
		free(text);
	}
	cr_assert_eq(f.count, 0, "%d banned term(s) in docs/ko:\n%s", f.count, f.text);
	findings_free(&f);
}

Test(ko, glossary_and_exercises_are_linked)
{
	char *readme = read_whole_file(KO_DIR "/README.md", NULL);
	cr_assert(readme, "no " KO_DIR "/README.md");
	cr_assert(strstr(readme, "](" GLOSSARY ")"), KO_DIR "/README.md does not link " GLOSSARY);

	DIR *d = opendir("docs/exercises");
	cr_assert(d, "no docs/exercises");
	struct dirent *e;
	int seen = 0;
	while ((e = readdir(d))) {
		char english[512], korean[512], link[512];
		struct stat st;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(english, sizeof(english), "docs/exercises/%s/README.md", e->d_name);
		if (stat(english, &st) != 0)
			continue;
		seen++;
		snprintf(korean, sizeof(korean), KO_DIR "/exercises/%s.md", e->d_name);
		cr_expect(stat(korean, &st) == 0, "%s has no Korean page %s", english, korean);
		snprintf(link, sizeof(link), "](exercises/%s.md)", e->d_name);
		cr_expect(strstr(readme, link), KO_DIR "/README.md does not link %s", korean);
		char *page = read_whole_file(korean, NULL);
		if (page) {
			snprintf(link, sizeof(link), "](../../exercises/%s/README.md)", e->d_name);
			cr_expect(strstr(page, link), "%s does not link its English original %s",
				  korean, english);
			free(page);
		}
	}
	closedir(d);
	cr_assert_gt(seen, 0, "no exercise found in docs/exercises");
	free(readme);
}

/* The first ```text block of a Markdown text, copied; NULL if none. */
static char *first_text_block(const char *md)
{
	const char *a = strstr(md, "\n```text\n");
	if (!a)
		return NULL;
	a += strlen("\n```text\n");
	const char *b = strstr(a, "\n```\n");
	return b ? strndup(a, b - a) : NULL;
}

/* The Korean exercises index shows the sample run of the English one,
 * which docs::exercise checks against exercise 1's real output: the same
 * text, or the translation has drifted from the checker. */
Test(ko, exercises_index_shows_the_checked_sample_run)
{
	char *en = read_whole_file("docs/exercises/README.md", NULL);
	char *ko = read_whole_file(KO_DIR "/exercises/README.md", NULL);
	cr_assert(en, "no docs/exercises/README.md");
	cr_assert(ko, "no " KO_DIR "/exercises/README.md");
	char *en_run = first_text_block(en), *ko_run = first_text_block(ko);
	cr_assert(en_run, "docs/exercises/README.md has no ```text sample run");
	cr_assert(ko_run, KO_DIR "/exercises/README.md has no ```text sample run");
	cr_assert_str_eq(ko_run, en_run, KO_DIR "/exercises/README.md shows another sample run "
			 "than docs/exercises/README.md: copy the English one");
	free(en_run);
	free(ko_run);
	free(en);
	free(ko);
}
