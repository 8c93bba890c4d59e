#!/bin/sh
# test_connect_setup.sh SRC NODE_DIR PROTOC - the ctest fixture of the RPC
# dialects' client test: the npm packages of tests/connect
# (@connectrpc/connect-node, @bufbuild/protobuf, @bufbuild/protoc-gen-es)
# installed into NODE_DIR (npm_setup.sh), the client code generated from
# proto/users.proto by PROTOC (the build's protoc) with protoc-gen-es into
# NODE_DIR/gen (every run: the contract may have changed), and the test
# script copied beside them.
set -eu
src=$1
dir=$2
protoc=$3

sh "$src/tests/integration/npm_setup.sh" "$src/tests/connect" "$dir"
rm -rf "$dir/gen"
mkdir -p "$dir/gen"
"$protoc" -I "$src/proto" -I /usr/include \
	--plugin=protoc-gen-es="$dir/node_modules/.bin/protoc-gen-es" \
	--es_out="$dir/gen" --es_opt=target=js,import_extension=js \
	users.proto options.proto
cp "$src/tests/integration/test_connect_client.mjs" "$dir/"
echo "connect: client generated into $dir/gen"
