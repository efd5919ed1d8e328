"""Site apps served by the testbed: market_a, market_b (JavaScript), market_c (onion), forum, hostile."""
