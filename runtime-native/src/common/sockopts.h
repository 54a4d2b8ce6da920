/* Socket options of a DMTCP_FD_SOCKET record, applied to a new socket: by
 * dmtcp_restart to the sockets it makes, by the runtime to the connections it
 * makes again through the name service. Async-signal-safe (system calls only). */
#ifndef DMTCP_SOCKOPTS_H
#define DMTCP_SOCKOPTS_H
#include "dmtcp/image_format.h"

void sockopts_apply(int fd, const struct dmtcp_fd_record *r);
#endif
