#ifndef WATCHD_LEDGER_VFS_H
#define WATCHD_LEDGER_VFS_H

/* The name of the VFS that writes a transaction's WAL frames in one system
 * call (registered on first use, not as the default), or NULL if it could
 * not be registered; sqlite3_open_v2 then takes the default VFS. */
const char *ledger_vfs(void);

#endif
