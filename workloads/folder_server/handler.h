/* Routing and answers: the part of the server that speaks HTTP. */
#ifndef FS_HANDLER_H
#define FS_HANDLER_H

#include <microhttpd.h>

#include "options.h"

void fs_handler_init(const struct fs_config *cfg);

/* libmicrohttpd's access handler and request-completed callback. */
enum MHD_Result fs_handle(void *cls, struct MHD_Connection *conn,
			  const char *url, const char *method,
			  const char *version, const char *upload_data,
			  size_t *upload_data_size, void **req_cls);
void fs_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		  enum MHD_RequestTerminationCode toe);

#endif
