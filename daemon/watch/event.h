/* What the watcher tells settle about a path: the one vocabulary the two
 * stages share, so that settle needs nothing else of the watcher. */
#ifndef WD_EVENT_H
#define WD_EVENT_H

/* What happened to a path; several bits may be set. */
enum {
	WEV_CREATED	= 1 << 0,	/* appeared (create, moved in, found by a scan) */
	WEV_MODIFIED	= 1 << 1,	/* content written (the writer may still have it open) */
	WEV_CLOSED	= 1 << 2,	/* a writer closed it (IN_CLOSE_WRITE); never sent for
					 * what a listing found: a listing cannot tell */
	WEV_ATTRIB	= 1 << 3,
	WEV_REMOVED	= 1 << 4,	/* deleted or moved away */
	WEV_RESCAN	= 1 << 5,	/* found changed by a rescan, not by an event */
};

#endif
