"""Singer tap for the Fenxiang Xiaoke (纷享销客 / ShareCRM) OpenAPI."""
