/* The HTML page vsbox report writes: everything before the JSON data, and everything
 * after it (style and script inline; the page loads nothing). */
#ifndef VSBOX_CLI_REPORT_PAGE_H
#define VSBOX_CLI_REPORT_PAGE_H

extern const char report_page_head[];
extern const char report_page_tail[];

#endif
