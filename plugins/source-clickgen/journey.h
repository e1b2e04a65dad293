/* journey.h - one user's random walk over the shop's pages (docs/semantics.md §2). */
#ifndef CLICKGEN_JOURNEY_H
#define CLICKGEN_JOURNEY_H
#include "prng.h"
#include <stdint.h>

/* Pages, in the order of the transition table.  PAGE_END is the final event
 * of a journey (event_type ""). */
enum journey_page {
    PAGE_HOME,
    PAGE_CATALOG,
    PAGE_DETAIL,
    PAGE_ADD_TO_CART,
    PAGE_ORDER,
    PAGE_CHECKOUT,
    PAGE_REMOVE_FROM_CART,
    PAGE_END,
    PAGE_COUNT
};

/* Products: 0..PRODUCT_KINDS-1 are departments; two markers follow. */
#define PRODUCT_KINDS 8
#define PRODUCT_NA PRODUCT_KINDS         /* "N/A": non-product pages */
#define PRODUCT_NONE (PRODUCT_KINDS + 1) /* "": the end event */
#define PRODUCT_COUNT (PRODUCT_KINDS + 2)

#define DEVICE_COUNT 3

extern const char *const journey_page_name[PAGE_COUNT];
extern const char *const journey_product_name[PRODUCT_COUNT];
extern const char *const journey_device_name[DEVICE_COUNT];
/* Their lengths (strlen), for the hot path. */
extern const uint8_t journey_page_len[PAGE_COUNT];
extern const uint8_t journey_product_len[PRODUCT_COUNT];
extern const uint8_t journey_device_len[DEVICE_COUNT];

/* One event of a journey: which page, which product. */
typedef struct journey_step {
    uint8_t page;
    uint8_t product;
} journey_step;

/* The first event of every journey: home_page, N/A. */
journey_step journey_first(void);

/* The event after `prev` (prev.page != PAGE_END): next page uniformly among
 * the table's options, product by the page's rule. */
journey_step journey_next(journey_step prev, prng *r);
#endif
