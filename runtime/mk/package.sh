#!/usr/bin/env bash
# make package: build/arm64/<name>.zip for provided.al2023 arm64.
#   runtime/mk/package.sh NAME...   (NAME = functions/NAME/main.c, or testfn)
# make static-native: the same recipe for this x86_64 machine, so cold start
# can be measured natively (the arm64 bootstrap only runs under qemu here):
#   runtime/mk/package.sh --arch x86_64 NAME...
#   -> build/static-x86_64/<name>/bootstrap (no zip: it is never deployed)
#
# Each zip holds one stripped aarch64 `bootstrap`: libcurl, OpenSSL, zlib,
# expat and cJSON linked statically, glibc dynamically (AL2023 ships glibc
# 2.34, so no symbol may be versioned newer; runtime/mk/glibc-ceiling.sh
# checks that at link time).
#
# Third-party code is built once per arch into build/third_party/<arch>:
#   OpenSSL  from Debian's openssl source (see fetch_openssl), libcrypto and
#            libssl only, configured down to what a TLS 1.2/1.3 client of
#            AWS endpoints and SigV4 need (build_openssl_now says why);
#   libcurl  from Debian's curl source (`apt-get source curl`), lib/ only,
#            HTTP/HTTPS with that OpenSSL, zlib and the threaded resolver;
#   cJSON    from Debian's cjson source (`apt-get source cjson`);
#   zlib, expat: the static archives of Debian's -dev packages for the arch
#            (zlib1g-dev:arm64 ..., or the build machine's own).
# Our own code is compiled by runtime/mk/arm64.mk (incremental, -MMD), which
# takes ARCH=arm64|x86_64.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

arch=arm64
if [ "${1:-}" = --arch ]; then
	[ $# -ge 2 ] || { echo "package.sh: --arch needs arm64 or x86_64" >&2; exit 2; }
	arch=$2
	shift 2
fi
case "$arch" in
arm64) host=aarch64-linux-gnu ;;
x86_64) host=x86_64-linux-gnu ;;
*) echo "package.sh: unknown arch '$arch' (arm64 or x86_64)" >&2; exit 2 ;;
esac

[ $# -gt 0 ] || { echo "package.sh: no function names given" >&2; exit 2; }
for name in "$@"; do
	if [ "$name" = testfn ]; then m=tests/testfn/main.c; else m=functions/$name/main.c; fi
	[ -f "$m" ] || { echo "package.sh: '$m' not found (function '$name')" >&2; exit 2; }
done

# CROSS from the environment only for arm64 (the default arch); x86_64 uses
# Debian's triplet-prefixed native gcc, the same compiler as plain gcc.
if [ "$arch" = arm64 ]; then CROSS=${CROSS:-$host-}; else CROSS=$host-; fi
export CROSS
tp=build/third_party
prefix=$tp/$arch
jobs=${JOBS:-2}
sysroot_lib=/usr/lib/$host

say() { echo "  $*"; }

for tool in "${CROSS}gcc" "${CROSS}ar" "${CROSS}strip" "${CROSS}readelf" zip apt-get dpkg-source perl; do
	command -v "$tool" >/dev/null || { echo "package.sh: '$tool' not found (run make deps)" >&2; exit 1; }
done
for a in libz.a libexpat.a; do
	[ -f "$sysroot_lib/$a" ] || { echo "package.sh: '$sysroot_lib/$a' missing (run make deps)" >&2; exit 1; }
done

# Fetch a Debian source package into $tp/src once. Prints the unpacked dir.
fetch_source() {
	local pkg=$1 dir
	mkdir -p "$tp/src"
	dir=$(find "$tp/src" -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n1)
	if [ -z "$dir" ] || [ ! -f "$tp/src/.$pkg.fetched" ]; then
		say "SOURCE  $pkg (apt-get source)" >&2
		rm -rf "$tp/src/$pkg"-[0-9]* "$tp/src/$pkg"_*
		(cd "$tp/src" && apt-get source -qq "$pkg" >/dev/null 2>"$pkg.fetch.log") || {
			cat "$tp/src/$pkg.fetch.log" >&2
			echo "package.sh: apt-get source $pkg failed (deb-src enabled? run make deps)" >&2
			return 1
		}
		touch "$tp/src/.$pkg.fetched"
		dir=$(find "$tp/src" -maxdepth 1 -type d -name "$pkg-[0-9]*" | sort | tail -n1)
	fi
	echo "$dir"
}

# OpenSSL's source. `apt-get source openssl` when Debian can serve it (the
# .dsc and Debian's patches); when it cannot (seen here: debian-security
# answered 404 for the .dsc of 3.0.22-1~deb12u2 while serving its tarball),
# the upstream tarball of that same version, fetched by apt's own helper and
# checked against the SHA256 that apt's signed Sources index gives for it.
# Debian's openssl patches are packaging (paths, man pages, openssl.cnf
# defaults), none of which a static libcrypto without a config file reads.
# Prints the unpacked dir.
fetch_openssl() {
	local dir line uri file hash d
	if dir=$(fetch_source openssl 2>/dev/null); then
		echo "$dir"
		return 0
	fi
	# From an empty directory: apt leaves out files already present there
	# (the tarball the failed `apt-get source` did fetch).
	line=$(d=$(mktemp -d) && cd "$d" && apt-get source --print-uris -qq openssl | grep -E "^'[^']*\.orig\.tar\.[a-z]+' " | head -n1; rmdir "$d")
	read -r uri file _ hash <<<"$line"
	uri=${uri//\'/}
	case "$hash" in SHA256:*) ;; *) echo "package.sh: no SHA256 for the openssl tarball in apt's index ('$line')" >&2; return 1 ;; esac
	say "SOURCE  openssl: Debian's .dsc unavailable, upstream $file (SHA256 from apt's index)" >&2
	rm -rf "$tp/src/openssl"-[0-9]*
	# The failed `apt-get source` may have fetched the tarball already:
	# kept only if it has the index's hash.
	if [ "$(sha256sum "$tp/src/$file" 2>/dev/null | cut -d' ' -f1)" != "${hash#SHA256:}" ]; then
		rm -f "$tp/src/$file"
		/usr/lib/apt/apt-helper download-file "$uri" "$tp/src/$file" "$hash" >"$tp/src/openssl.fetch.log" 2>&1 || {
			cat "$tp/src/openssl.fetch.log" >&2
			echo "package.sh: cannot download $uri" >&2
			return 1
		}
	fi
	tar -C "$tp/src" -xf "$tp/src/$file"
	touch "$tp/src/.openssl.fetched"
	find "$tp/src" -maxdepth 1 -type d -name "openssl-[0-9]*" | sort | tail -n1
}

build_openssl() {
	local stamp=$prefix/.openssl.done
	[ -f "$prefix/lib/libcrypto.a" ] && [ -f "$prefix/lib/libssl.a" ] && [ -f "$stamp" ] &&
		[ "$(cut -d' ' -f1 "$stamp")" = "$openssl_recipe" ] && return 0
	build_openssl_now
}

# Why our own OpenSSL and not Debian's libssl.a: cold start. Debian's is
# built with every engine, algorithm and compression method, and without
# -fdata-sections, so a bootstrap linked against it runs curl's engine
# loading (padlock, rdrand, dynamic) and zlib compression setup at init and
# relocates ~100 KB more of libcrypto's pointer tables on every start
# (tests/bench/coldstart.py, interleaved: 5.05 -> 3.96-4.09 ms median
# against a 2.06 ms floor on the 2-CPU build VM). What is
# left is what talking TLS 1.2/1.3 to AWS endpoints and signing SigV4 use:
# RSA/ECDSA/Ed25519 certificates, ECDHE (X25519, P-256, P-384) and FFDHE,
# AES-GCM/CBC and ChaCha20-Poly1305, SHA-1/2/3, HMAC, HKDF, error strings.
# Gone: engines and loadable modules (nothing may be loaded from disk at
# run time), openssl.cnf autoloading, TLS compression, SSLv3, DTLS, SRP,
# PSK, and legacy or national ciphers and digests no AWS endpoint offers.
build_openssl_now() {
	local stamp=$prefix/.openssl.done src log t0 target
	t0=$(date +%s)
	src=$(fetch_openssl)
	log=$root/$tp/openssl-build-$arch.log
	case "$arch" in arm64) target=linux-aarch64 ;; x86_64) target=linux-x86_64 ;; esac
	rm -rf "$tp/openssl-build-$arch"
	mkdir -p "$tp/openssl-build-$arch"
	say "BUILD   OpenSSL ($arch, $src; log $log)"
	(
		cd "$tp/openssl-build-$arch"
		# Out of tree, so arm64 and x86_64 share one unpacked source. -O2
		# (OpenSSL's default is -O3): a fifth less compile time, and the
		# hot paths are its assembly anyway.
		CC=gcc AR=ar RANLIB=ranlib "$root/$src/Configure" "$target" \
			--cross-compile-prefix="$CROSS" \
			--prefix="$root/$prefix" --libdir=lib --openssldir=/etc/ssl \
			no-shared no-module no-engine no-dso no-autoload-config \
			no-comp no-ssl3 no-dtls no-srp no-psk no-srtp no-nextprotoneg \
			no-legacy no-idea no-camellia no-seed no-bf no-cast no-rc2 \
			no-rc4 no-rc5 no-md4 no-mdc2 no-whirlpool no-rmd160 no-des \
			no-dsa no-sm2 no-sm3 no-sm4 no-aria no-siphash no-gost \
			no-blake2 no-cmac no-ocb no-siv no-scrypt no-ec2m no-cms \
			no-ts no-cmp no-ocsp no-ct no-rfc3779 no-async no-multiblock \
			no-ui-console no-tests \
			-O2 -ffunction-sections -fdata-sections
		# The two libraries and their pkg-config files only: `build_libs`
		# and `install_dev` would also build the command-line tool's
		# library, which nothing here links.
		make -j"$jobs" build_generated
		make -j"$jobs" libcrypto.a libssl.a libcrypto.pc libssl.pc openssl.pc
		mkdir -p "$root/$prefix/include/openssl" "$root/$prefix/lib/pkgconfig"
		cp "$root/$src"/include/openssl/*.h include/openssl/*.h "$root/$prefix/include/openssl/"
		cp libcrypto.a libssl.a "$root/$prefix/lib/"
		cp libcrypto.pc libssl.pc openssl.pc "$root/$prefix/lib/pkgconfig/"
	) >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "package.sh: OpenSSL build failed, see $log" >&2; return 1; }
	echo "$openssl_recipe $(basename "$src") $(date -u +%FT%TZ) $(( $(date +%s) - t0 ))s" >"$stamp"
	# libcurl was configured against whatever OpenSSL was there before.
	rm -f "$prefix/.curl.done"
	say "BUILT   OpenSSL in $(( $(date +%s) - t0 ))s"
}

# The stamp records a hash of the recipe (build_curl_now's text, hashed
# below): an edited configure line rebuilds libcurl, an unchanged one never
# does.
build_curl() {
	local stamp=$prefix/.curl.done
	[ -f "$prefix/lib/libcurl.a" ] && [ -f "$stamp" ] &&
		[ "$(cut -d' ' -f1 "$stamp")" = "$curl_recipe" ] && return 0
	build_curl_now
}

build_curl_now() {
	local stamp=$prefix/.curl.done src log t0
	t0=$(date +%s)
	src=$(fetch_source curl)
	log=$root/$tp/curl-build.log
	# arm64 builds in the unpacked source (as it always has); another arch
	# in its own copy, so the two never share configure state or objects.
	if [ "$arch" != arm64 ]; then
		log=$root/$tp/curl-build-$arch.log
		rm -rf "$tp/build-$arch"
		mkdir -p "$tp/build-$arch"
		cp -a "$src" "$tp/build-$arch/"
		src=$tp/build-$arch/$(basename "$src")
	fi
	say "BUILD   libcurl ($arch, $src; log $log)"
	# Debian's patches touch configure.ac and Makefile.am, but the release
	# tarball's generated configure/Makefile.in are what we use (maintainer
	# mode is off), so no autotools run. The Makefiles may be left over from
	# an interrupted build: start clean.
	(
		cd "$src"
		[ ! -f Makefile ] || make distclean >/dev/null 2>&1 || true
		# pkg-config must describe the target's libraries (for arm64 not
		# the build machine's).
		export PKG_CONFIG=pkg-config PKG_CONFIG_LIBDIR=$root/$prefix/lib/pkgconfig:$sysroot_lib/pkgconfig:/usr/share/pkgconfig
		# glibc 2.36 has arc4random (GLIBC_2.36): keep curl off it so the
		# binary stays within AL2023's glibc 2.34 (curl 7.88 does not use it,
		# the cache variable is belt and braces for newer sources).
		export ac_cv_func_arc4random=no
		./configure --host="$host" CC="${CROSS}gcc" AR="${CROSS}ar" \
			RANLIB="${CROSS}ranlib" STRIP="${CROSS}strip" \
			CFLAGS="-O2 -ffunction-sections -fdata-sections" \
			--disable-shared --enable-static --with-pic=no \
			--disable-dependency-tracking --disable-maintainer-mode \
			--enable-http --enable-proxy --enable-threaded-resolver \
			--with-openssl="$root/$prefix" --with-zlib \
			--without-ca-bundle --without-ca-path --without-ca-fallback \
			--disable-openssl-auto-load-config \
			--disable-ftp --disable-file --disable-ldap --disable-ldaps \
			--disable-rtsp --disable-dict --disable-telnet --disable-tftp \
			--disable-pop3 --disable-imap --disable-smtp --disable-gopher \
			--disable-mqtt --disable-smb --disable-manual \
			--disable-libcurl-option --disable-ntlm --disable-ntlm-wb \
			--disable-tls-srp --disable-alt-svc --disable-hsts \
			--disable-cookies --disable-netrc --disable-doh \
			--disable-websockets --disable-unix-sockets \
			--disable-progress-meter --disable-dnsshuffle \
			--without-libpsl --without-libidn2 --without-brotli \
			--without-zstd --without-nghttp2 --without-nghttp3 \
			--without-ngtcp2 --without-quiche --without-msh3 \
			--without-librtmp --without-libssh2 --without-libssh \
			--without-wolfssh --without-libgsasl --without-gssapi \
			--without-hyper --disable-ares
		make -C lib -j"$jobs" libcurl.la
	) >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "package.sh: libcurl build failed, see $log" >&2; return 1; }
	grep -q '^#define USE_OPENSSL 1' "$src/lib/curl_config.h" || { echo "package.sh: libcurl configured without OpenSSL, see $log" >&2; return 1; }
	grep -q '^#define USE_THREADS_POSIX 1' "$src/lib/curl_config.h" || { echo "package.sh: libcurl configured without the threaded resolver, see $log" >&2; return 1; }
	mkdir -p "$prefix/lib" "$prefix/include/curl"
	cp "$src/lib/.libs/libcurl.a" "$prefix/lib/libcurl.a"
	cp "$src"/include/curl/*.h "$prefix/include/curl/"
	echo "$curl_recipe $(basename "$src") $(date -u +%FT%TZ) $(( $(date +%s) - t0 ))s" >"$stamp"
	say "BUILT   libcurl in $(( $(date +%s) - t0 ))s"
}

build_cjson() {
	local stamp=$prefix/.cjson.done src obj
	[ -f "$stamp" ] && [ -f "$prefix/lib/libcjson.a" ] && return 0
	src=$(fetch_source cjson)
	say "BUILD   cJSON ($arch, $src)"
	mkdir -p "$prefix/lib" "$prefix/include/cjson" "$tp/obj/$arch"
	obj=$tp/obj/$arch/cJSON.o
	"${CROSS}gcc" -std=c89 -O2 -c -o "$obj" "$src/cJSON.c"
	rm -f "$prefix/lib/libcjson.a"
	"${CROSS}ar" rcs "$prefix/lib/libcjson.a" "$obj"
	cp "$src/cJSON.h" "$prefix/include/cjson/cJSON.h"
	echo "$(basename "$src") $(date -u +%FT%TZ)" >"$stamp"
}

openssl_recipe=$(declare -f fetch_openssl build_openssl_now | sha256sum | cut -c1-16)
curl_recipe=$(declare -f build_curl_now | sha256sum | cut -c1-16)
mkdir -p "$tp"
# One builder at a time: `make test` and `make bench` may both package.
exec 9>"$tp/.lock"
flock 9
build_openssl
build_curl
build_cjson

# Our code: runtime/*.c + each function's .c files, incremental.
# Our own -j, not the calling make's jobserver (not passed to this script).
MAKEFLAGS= MFLAGS= make --no-print-directory -f runtime/mk/arm64.mk -j"$(nproc)" ARCH="$arch" CROSS="$CROSS" NAMES="$*"
