# Turns a binary file into a C array: cmake -DIN=file -DOUT=file.c -P embed.cmake
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from users.proto by embed.cmake: do not edit. */\n#include <stddef.h>\n#include <stdint.h>\nconst uint8_t up_descriptor_set[] = {\n${body}\n};\nconst size_t up_descriptor_set_len = ${size};\n")
