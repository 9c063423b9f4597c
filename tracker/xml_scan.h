/* xml_scan: a pull reader of the XML a wall drawing is: elements and their
 * attributes, in document order. Text, comments, processing instructions,
 * CDATA and the DOCTYPE are skipped; entities in attribute values are
 * decoded on request. Not a validating parser: enough XML 1.0 to read what
 * Inkscape, Illustrator and hand editors write, and to reject what is not
 * well-formed with the line and column of the problem. */
#ifndef POSETRACKD_XML_SCAN_H
#define POSETRACKD_XML_SCAN_H

#include <stddef.h>

#include "buf.h"

/* Attributes one element may carry: a drawing element has a handful;
 * more is not a wall. */
#define XML_SCAN_MAX_ATTRS 64
/* Open elements at once: bounds the reader's stack. */
#define XML_SCAN_MAX_DEPTH 256

typedef enum xml_scan_token {
    XML_SCAN_START, /* an element opens; name and attrs are set */
    XML_SCAN_END,   /* it closes (also right after a self-closing start) */
    XML_SCAN_EOF,   /* the root element closed and only misc follows */
    XML_SCAN_ERROR, /* err holds "line L, column C: what" */
} xml_scan_token;

typedef struct xml_scan_str {
    const char *p;
    size_t len;
} xml_scan_str;

typedef struct xml_scan_attr {
    xml_scan_str name;
    xml_scan_str raw; /* between the quotes, entities not decoded */
} xml_scan_attr;

/* The scanner borrows the document; it owns nothing but err. */
typedef struct xml_scan {
    const char *s;
    size_t len, pos;
    xml_scan_str name; /* of the element just started or ended */
    xml_scan_attr attrs[XML_SCAN_MAX_ATTRS];
    size_t nattrs;
    xml_scan_str open[XML_SCAN_MAX_DEPTH]; /* names of open elements */
    size_t depth;
    int pending_end; /* a self-closing element still owes its END */
    int seen_root;
    buf err;
} xml_scan;

void xml_scan_init(xml_scan *x, const char *s, size_t len);
void xml_scan_free(xml_scan *x);
xml_scan_token xml_scan_next(xml_scan *x);
/* The current element's attribute, or NULL. */
const xml_scan_attr *xml_scan_attr_get(const xml_scan *x, const char *name);
/* Decodes a raw value (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) into out,
 * replacing out's contents. Returns 0, or -1 on an unknown or malformed
 * entity. */
int xml_scan_decode(xml_scan_str raw, buf *out);
/* The element name without its namespace prefix ("svg:path" -> "path"). */
xml_scan_str xml_scan_local_name(xml_scan_str name);
int xml_scan_str_is(xml_scan_str s, const char *lit);
/* Line and column (both from 1) of a byte offset, for messages. */
void xml_scan_where(const xml_scan *x, size_t pos, size_t *line, size_t *col);

#endif
