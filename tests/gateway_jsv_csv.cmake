# The JSV and CSV codecs (userswire): golden cases from the seeds, quoting,
# limits, round trips (JSV over every DTO, CSV over the flat request DTOs),
# and both decoders fuzzed (their corpora replayed as ordinary tests).
users_unit_test(test_codec_jsv)
target_link_libraries(test_codec_jsv PRIVATE userswire codec_gen)
# the JSV value codec that CSV cells use, internal to the library
target_include_directories(test_codec_jsv PRIVATE
	${CMAKE_SOURCE_DIR}/codec)
users_fuzz_target(jsv fuzz_jsv.c fuzz_codec)
users_unit_test(test_codec_csv)
target_link_libraries(test_codec_csv PRIVATE userswire codec_gen)
users_fuzz_target(csv fuzz_csv.c fuzz_codec)
