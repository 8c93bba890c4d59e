# The XML (DataContract) codec of userswire: golden cases from the seeds, namespaces,
# escaping, leniency, errors and limits, DTD/XXE/billion-laughs refusal, a
# round trip over every DTO; its decoder fuzzed (the corpus replayed as an
# ordinary test).
users_unit_test(test_codec_xml)
target_link_libraries(test_codec_xml PRIVATE userswire codec_gen
	Threads::Threads)

users_fuzz_target(xml fuzz_xml.c fuzz_codec)
