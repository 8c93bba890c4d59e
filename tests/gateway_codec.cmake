# The wire codecs (userswire, codec/): JSON encode/decode (golden cases from the seeds and
# a round-trip property test over every DTO), the text/form field rules,
# and both decoders fuzzed (their corpora replayed as ordinary tests).
# Random DTO messages for the codecs' round trips and their comparison
# (tests/unit/codec_gen.h): the codec tests here and in
# gateway_{xml,jsv_csv}.cmake, and fuzz_codec below.
add_library(codec_gen STATIC unit/codec_gen.c)
target_include_directories(codec_gen PUBLIC unit)
target_link_libraries(codec_gen PUBLIC userswire PRIVATE users_warnings)

users_unit_test(test_codec_json)
target_link_libraries(test_codec_json PRIVATE userswire codec_gen)
users_unit_test(test_fields)
target_link_libraries(test_fields PRIVATE userswire)

# The decode, encode back, decode again and compare loop of the codec
# fuzz targets (here and in gateway_{xml,jsv_csv}.cmake).
add_library(fuzz_codec STATIC fuzz/fuzz_codec.c)
target_include_directories(fuzz_codec PUBLIC fuzz)
target_link_libraries(fuzz_codec PUBLIC userswire PRIVATE codec_gen
	users_warnings)

users_fuzz_target(json fuzz_json.c fuzz_codec)
users_fuzz_target(form fuzz_form.c fuzz_codec)
