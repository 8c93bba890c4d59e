# The store: unit tests of the SQLite backend (daemon/store*.c).
users_unit_test(test_store)
target_link_libraries(test_store PRIVATE ud_store)
