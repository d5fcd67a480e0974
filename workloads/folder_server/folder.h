/* The folder resource, shaped like Cloud Resource Manager v3's Folder. */
#ifndef FS_FOLDER_H
#define FS_FOLDER_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* The display name of folder id under seed, e.g. "Finance Staging 042":
 * the same for the same (seed, id), at most 30 characters like the real
 * API's limit. */
void fs_display_name(uint64_t seed, uint64_t id, char *buf, size_t cap);

/* A new JSON object {"name","parent","displayName","state","createTime",
 * "updateTime","etag"}; the caller puts it. */
struct json_object *fs_folder_json(uint64_t seed, uint64_t id);

#endif
