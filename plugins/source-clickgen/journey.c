/* journey.c - the page transition table and product rules of the reference
 * producer (docs/semantics.md §2), kept as data so they read like the spec. */
#include "journey.h"

const char *const journey_page_name[PAGE_COUNT] = {
    [PAGE_HOME] = "home_page",
    [PAGE_CATALOG] = "product_catalog",
    [PAGE_DETAIL] = "product_detail",
    [PAGE_ADD_TO_CART] = "add_to_cart",
    [PAGE_ORDER] = "order",
    [PAGE_CHECKOUT] = "order_checkout",
    [PAGE_REMOVE_FROM_CART] = "remove_from_cart",
    [PAGE_END] = "",
};

const char *const journey_product_name[PRODUCT_COUNT] = {
    "cell phones", "laptops", "ear phones", "soundbars", "cd players",
    "AirPods", "video games", "cameras",
    [PRODUCT_NA] = "N/A",
    [PRODUCT_NONE] = "",
};

const char *const journey_device_name[DEVICE_COUNT] = {"mobile", "computer", "tablet"};

#define LEN(s) (sizeof s - 1)
const uint8_t journey_page_len[PAGE_COUNT] = {
    [PAGE_HOME] = LEN("home_page"),
    [PAGE_CATALOG] = LEN("product_catalog"),
    [PAGE_DETAIL] = LEN("product_detail"),
    [PAGE_ADD_TO_CART] = LEN("add_to_cart"),
    [PAGE_ORDER] = LEN("order"),
    [PAGE_CHECKOUT] = LEN("order_checkout"),
    [PAGE_REMOVE_FROM_CART] = LEN("remove_from_cart"),
    [PAGE_END] = 0,
};
const uint8_t journey_product_len[PRODUCT_COUNT] = {
    LEN("cell phones"), LEN("laptops"), LEN("ear phones"), LEN("soundbars"), LEN("cd players"),
    LEN("AirPods"), LEN("video games"), LEN("cameras"),
    [PRODUCT_NA] = LEN("N/A"),
    [PRODUCT_NONE] = 0,
};
const uint8_t journey_device_len[DEVICE_COUNT] = {LEN("mobile"), LEN("computer"), LEN("tablet")};
#undef LEN

/* Next pages by previous page; the choice among them is uniform. */
static const struct {
    uint8_t n;
    uint8_t next[3];
} transitions[PAGE_COUNT] = {
    [PAGE_HOME] = {1, {PAGE_CATALOG}},
    [PAGE_CATALOG] = {2, {PAGE_HOME, PAGE_DETAIL}},
    [PAGE_DETAIL] = {2, {PAGE_CATALOG, PAGE_ADD_TO_CART}},
    [PAGE_ADD_TO_CART] = {3, {PAGE_CATALOG, PAGE_REMOVE_FROM_CART, PAGE_ORDER}},
    [PAGE_ORDER] = {3, {PAGE_CHECKOUT, PAGE_REMOVE_FROM_CART, PAGE_CATALOG}},
    [PAGE_CHECKOUT] = {1, {PAGE_END}},
    [PAGE_REMOVE_FROM_CART] = {3, {PAGE_END, PAGE_DETAIL, PAGE_CATALOG}},
    [PAGE_END] = {0, {0}},
};

journey_step journey_first(void)
{
    return (journey_step){.page = PAGE_HOME, .product = PRODUCT_NA};
}

journey_step journey_next(journey_step prev, prng *r)
{
    journey_step s;
    uint8_t n = transitions[prev.page].n;
    s.page = transitions[prev.page].next[n > 1 ? prng_below(r, n) : 0];
    switch (s.page) {
    case PAGE_HOME:
    case PAGE_CATALOG: s.product = PRODUCT_NA; break;
    case PAGE_DETAIL: s.product = (uint8_t)prng_below(r, PRODUCT_KINDS); break;
    case PAGE_END: s.product = PRODUCT_NONE; break;
    default: s.product = prev.product; break; /* cart, order, checkout */
    }
    return s;
}
