/* Seeded folder resources.  A name is a pure function of (seed, id), so a
 * client can check an answer and two server runs agree without a file. */
#define _GNU_SOURCE
#include "folder.h"

#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "faults.h"

enum { SALT_NAME = 16, SALT_TIME, SALT_ORG, SALT_ETAG };

static const char *const teams[] = {
	"Finance", "Marketing", "Engineering", "Research", "Sales", "Legal",
	"Support", "Data", "Security", "Operations", "Design", "Platform",
	"Analytics", "Billing", "Growth", "Infra",
};
static const char *const stages[] = {
	"Prod", "Staging", "Dev", "Test", "Sandbox", "Shared", "Archive", "Ops",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

void fs_display_name(uint64_t seed, uint64_t id, char *buf, size_t cap)
{
	uint64_t h = fs_hash(seed, SALT_NAME, id, 0);

	snprintf(buf, cap, "%s %s %03u", teams[h % N(teams)],
		 stages[(h >> 8) % N(stages)], (unsigned)((h >> 16) % 1000));
}

/* RFC 3339 in UTC, as the API writes timestamps. */
static void timestamp(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct json_object *fs_folder_json(uint64_t seed, uint64_t id)
{
	struct json_object *o = json_object_new_object();
	/* Created some time in 2015-2024, updated up to a year later. */
	uint64_t h = fs_hash(seed, SALT_TIME, id, 0);
	time_t created = (time_t)(1420070400 + h % (10 * 365 * 86400ULL));
	time_t updated = created + (time_t)((h >> 32) % (365 * 86400ULL));
	char buf[64];

	snprintf(buf, sizeof(buf), "folders/%llu", (unsigned long long)id);
	json_object_object_add(o, "name", json_object_new_string(buf));
	/* A shallow tree: ten folders per parent, the top ones under one
	 * organization of the seed. */
	if (id >= 10)
		snprintf(buf, sizeof(buf), "folders/%llu", (unsigned long long)(id / 10));
	else
		snprintf(buf, sizeof(buf), "organizations/%llu",
			 (unsigned long long)(fs_hash(seed, SALT_ORG, 0, 0) % 1000000000000ULL));
	json_object_object_add(o, "parent", json_object_new_string(buf));
	fs_display_name(seed, id, buf, sizeof(buf));
	json_object_object_add(o, "displayName", json_object_new_string(buf));
	json_object_object_add(o, "state", json_object_new_string("ACTIVE"));
	timestamp(created, buf, sizeof(buf));
	json_object_object_add(o, "createTime", json_object_new_string(buf));
	timestamp(updated, buf, sizeof(buf));
	json_object_object_add(o, "updateTime", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "W/\"%016llx\"",
		 (unsigned long long)fs_hash(seed, SALT_ETAG, id, 0));
	json_object_object_add(o, "etag", json_object_new_string(buf));
	return o;
}
