/* The link a queue threads its elements on.  An element embeds one as its
 * first member, so a queue needs to know nothing else about it. */
#ifndef CF_BASE_LINK_H
#define CF_BASE_LINK_H

struct cf_link {
	struct cf_link *next;
};

#endif
