/* The program version and the IPC protocol version. */
#ifndef WD_VERSION_H
#define WD_VERSION_H

#define WATCHD_VERSION "0.1.0"
#define WATCHD_PROTO 1
/* The project's home page: SARIF's tool.driver.informationUri. */
#define WATCHD_URL "https://github.com/watchd/watchd"

#endif
