#!/bin/sh
# test_meta_langs.sh LANG DIR [USER_ID FIRST_NAME] - the compile checks of
# the DTO files usersgw serves, run by test_meta_gw from the files it saved
# in DIR (dtos.cs, dtos.java, dtos.kt, dtos.py), with the toolchains Debian
# 12 offers (scripts/deps.sh installs them) and minimal stand-ins for
# ServiceStack's client types, written here into DIR/LANG/:
#
#   csharp  mcs (mono-mcs) compiles dtos.cs, warnings as errors
#   python  mypy --strict type-checks dtos.py
#   java    javac compiles dtos.java with Debian's Gson; a probe then
#           serializes PatchUser{userId, firstName} with Gson and prints
#           "BODY <json>" (what the Java client sends for a first-name
#           edit), and reads an OrganizationBasicView whose wire name is
#           "organizations" into subOrganizations
#   kotlin  kotlinc the same for dtos.kt (about 10 s: the compiler's start)
#
# A toolchain that is missing fails the check: make test must run them all.
set -eu
lang=$1
dir=$2
uid=${3:-1}
first=${4:-Grace}
gson=/usr/share/java/gson.jar
out=$dir/$lang
rm -rf "$out"
mkdir -p "$out"

need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "meta $lang: $1 is missing (sh scripts/deps.sh installs $2)" >&2
		exit 1
	fi
}
need_file() {
	if [ ! -f "$1" ]; then
		echo "meta $lang: $1 is missing (sh scripts/deps.sh installs $2)" >&2
		exit 1
	fi
}

case $lang in
csharp)
	need mcs mono-mcs
	cat >"$out/standins.cs" <<'EOF'
// Stand-ins for what ServiceStack.Client gives a DTO file (and the
// DataContract attributes, whose assembly mono-mcs does not bring).
using System;
using System.Collections.Generic;

namespace System.Runtime.Serialization
{
    [AttributeUsage(AttributeTargets.Class)]
    public class DataContractAttribute : Attribute { public string Namespace { get; set; } }
    [AttributeUsage(AttributeTargets.Property)]
    public class DataMemberAttribute : Attribute { public string Name { get; set; } }
}
namespace ServiceStack.DataAnnotations
{
    public class StringLengthAttribute : Attribute { }
}
namespace ServiceStack
{
    public interface IReturn<T> { }
    public interface IReturnVoid { }
    public interface IGet { }
    public interface IPost { }
    public interface IPut { }
    public interface IDelete { }
    public interface IPatch { }
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
    public class RouteAttribute : Attribute
    {
        public RouteAttribute(string path, string verbs) { }
        public string Summary { get; set; }
    }
    public class RequiresAnyRoleAttribute : Attribute
    {
        public RequiresAnyRoleAttribute(params string[] roles) { }
    }
    public class AuthenticateAttribute : Attribute { }
    public class ApiAttribute : Attribute { public string Description { get; set; } }
    public class ApiMemberAttribute : Attribute
    {
        public string Description { get; set; }
        public bool IsRequired { get; set; }
    }
    public class ResponseError { public string FieldName { get; set; } }
    public class ResponseStatus { public List<ResponseError> Errors { get; set; } }
}
EOF
	mcs -target:library -warnaserror -nologo -out:"$out/dtos.dll" \
		"$out/standins.cs" "$dir/dtos.cs"
	echo "csharp: dtos.cs compiles (mcs)"
	;;
python)
	need mypy mypy
	mkdir -p "$out/stubs/dataclasses_json" "$out/stubs/marshmallow"
	cat >"$out/stubs/servicestack.py" <<'EOF'
# Stand-ins for what the servicestack package gives a DTO file.
from dataclasses import dataclass
from typing import Dict, Generic, List, Optional, TypeVar

T = TypeVar("T")


class IReturn(Generic[T]):
    pass


class IReturnVoid:
    pass


class IGet:
    pass


class IPost:
    pass


class IPut:
    pass


class IDelete:
    pass


class IPatch:
    pass


@dataclass
class ResponseError:
    error_code: Optional[str] = None
    field_name: Optional[str] = None
    message: Optional[str] = None
    meta: Optional[Dict[str, str]] = None


@dataclass
class ResponseStatus:
    error_code: Optional[str] = None
    message: Optional[str] = None
    stack_trace: Optional[str] = None
    errors: Optional[List[ResponseError]] = None
    meta: Optional[Dict[str, str]] = None
EOF
	cat >"$out/stubs/dataclasses_json/__init__.py" <<'EOF'
# Stand-ins for dataclasses_json's decorator and field config.
from enum import Enum
from typing import Any, Callable, Dict, Optional, TypeVar

C = TypeVar("C")


class LetterCase(Enum):
    CAMEL = "camel"


class Undefined(Enum):
    EXCLUDE = "exclude"


def dataclass_json(letter_case: Optional[LetterCase] = None,
                   undefined: Optional[Undefined] = None
                   ) -> Callable[[C], C]:
    def wrap(cls: C) -> C:
        return cls
    return wrap


def config(field_name: Optional[str] = None) -> Dict[str, Any]:
    return {"field_name": field_name}
EOF
	: >"$out/stubs/marshmallow/__init__.py"
	printf 'class Field:\n    pass\n' >"$out/stubs/marshmallow/fields.py"
	cp "$dir/dtos.py" "$out/dtos.py"
	MYPYPATH="$out/stubs" mypy --strict --no-error-summary \
		--cache-dir "$out/.mypy_cache" "$out/dtos.py"
	echo "python: dtos.py type-checks (mypy --strict)"
	;;
java | kotlin)
	need javac default-jdk-headless
	need java default-jdk-headless
	need_file $gson libgoogle-gson-java
	mkdir -p "$out/src/net/servicestack/client" "$out/classes"
	w() {
		printf 'package net.servicestack.client;\n%s\n' "$2" \
			>"$out/src/net/servicestack/client/$1.java"
	}
	# Stand-ins for the Java client library (net.servicestack.client),
	# which the Kotlin client uses too.
	w IReturn 'public interface IReturn<T> { Object getResponseType(); }'
	w IReturnVoid 'public interface IReturnVoid { }'
	for i in IGet IPost IPut IDelete IPatch; do
		w $i "public interface $i { }"
	done
	w Route 'import java.lang.annotation.*;
@Repeatable(Routes.class) @Retention(RetentionPolicy.RUNTIME)
public @interface Route { String Path() default ""; String Verbs() default ""; String Summary() default ""; }'
	w Routes 'import java.lang.annotation.*;
@Retention(RetentionPolicy.RUNTIME)
public @interface Routes { Route[] value(); }'
	w Api 'public @interface Api { String Description() default ""; }'
	w ApiMember 'public @interface ApiMember { String Description() default ""; boolean IsRequired() default false; }'
	w ResponseError 'public class ResponseError { public String fieldName; }'
	w ResponseStatus 'import java.util.*;
public class ResponseStatus { public ArrayList<ResponseError> errors; }'
	javac -nowarn -d "$out/classes" "$out"/src/net/servicestack/client/*.java
	if [ "$lang" = java ]; then
		cp "$dir/dtos.java" "$out/dtos.java"
		cat >"$out/Probe.java" <<'EOF'
import com.google.gson.Gson;

public class Probe {
    public static void main(String[] args) {
        Gson g = new Gson();
        dtos.PatchUser edit = new dtos.PatchUser().setUserId(args[0]).setFirstName(args[1]);
        System.out.println("BODY " + g.toJson(edit));
        dtos.OrganizationBasicView v = g.fromJson(
            "{\"name\":\"A\",\"organizations\":[{\"name\":\"A1\"}]}", dtos.OrganizationBasicView.class);
        if (v.subOrganizations == null || !"A1".equals(v.subOrganizations.get(0).name)
            || !g.toJson(v).contains("\"organizations\":[")) {
            System.err.println("java: organizations is not read into subOrganizations");
            System.exit(1);
        }
    }
}
EOF
		javac -Werror -Xlint:all,-serial -cp "$out/classes:$gson" \
			-d "$out/classes" "$out/dtos.java" "$out/Probe.java"
		echo "java: dtos.java compiles (javac -Werror)"
		java -cp "$out/classes:$gson" Probe "$uid" "$first"
	else
		need kotlinc kotlin
		kstd=/usr/share/java/kotlin-stdlib.jar
		need_file $kstd kotlin
		cp "$dir/dtos.kt" "$out/dtos.kt"
		cat >"$out/Probe.kt" <<'EOF'
import com.google.gson.Gson

fun main(args: Array<String>) {
    val g = Gson()
    val edit = PatchUser()
    edit.userId = args[0]
    edit.firstName = args[1]
    println("BODY " + g.toJson(edit))
    val v = g.fromJson("{\"name\":\"A\",\"organizations\":[{\"name\":\"A1\"}]}",
        OrganizationBasicView::class.java)
    if (v.subOrganizations?.get(0)?.name != "A1" || !g.toJson(v).contains("\"organizations\":[")) {
        System.err.println("kotlin: organizations is not read into subOrganizations")
        System.exit(1)
    }
}
EOF
		# kotlinc 1.3 warns about JDK 17's flags on stderr: only its
		# exit status counts
		kotlinc -Werror -cp "$out/classes:$gson" \
			-d "$out/classes" "$out/dtos.kt" "$out/Probe.kt" \
			2>"$out/kotlinc.log" || {
			cat "$out/kotlinc.log" >&2
			exit 1
		}
		echo "kotlin: dtos.kt compiles (kotlinc -Werror)"
		java -cp "$out/classes:$gson:$kstd" ProbeKt "$uid" "$first"
	fi
	;;
*)
	echo "usage: test_meta_langs.sh csharp|python|java|kotlin DIR [USER_ID FIRST_NAME]" >&2
	exit 2
	;;
esac
