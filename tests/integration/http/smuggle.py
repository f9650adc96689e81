#!/usr/bin/python3
"""Request smuggling through chunked bodies, for test_smuggling.sh (stdlib only).

Each case is a POST with Transfer-Encoding: chunked to /attack?tag=NAME whose body is
malformed in a way some HTTP/1.1 reader takes differently from another; most hide a second
request, GET /smuggled?tag=NAME, that a reader taking a bare LF for a line end (as
lenient_upstream.py does, and RFC 9112 2.2 permits) sees as a request of its own when the
bytes reach it unchanged. Kinds:
  smuggle    sent straight to lenient_upstream.py, /smuggled is seen: the proxy must stop it
  malformed  breaks the chunked grammar without smuggling past this particular reader
  valid      a well-formed body (extensions, trailers, data that looks like framing) that must
             pass through intact, followed on the same connection by GET /second?tag=NAME
and, for the head rather than the body:
  hsmuggle   a head that frames the request by Content-Length for a strict reader and by
             Transfer-Encoding: chunked for a lenient one (a name with whitespace or a control
             byte before its colon, obs-fold, a bare LF, ...): sent straight to
             lenient_upstream.py, /smuggled is seen; the proxy's parser must refuse it
  hmalformed a head the proxy's parser must refuse, which smuggles nothing past this reader
  hop        a well-formed request whose hop-by-hop fields (RFC 9110 7.6.1), and those its
             Connection fields name, in any case, must not reach the upstream

  smuggle.py list                                NAME KIND DESCRIPTION, one case a line
  smuggle.py run NAME HOST PORT LOG SECS VIA     sends case NAME to HOST:PORT in one write, reads
                                                 until the peer closes, every expected answer
                                                 came, or SECS pass, then what lenient_upstream.py
                                                 logged in LOG meanwhile: prints OUTCOME STORY
                                                 (see run()); VIA: proxied or direct
  smuggle.py audit LOG VIA                       "clean" or "dirty": whether LOG holds a request
                                                 the sender did not send as one
"""
import json
import os
import socket
import sys
import time

HOST = "Host: 198.51.100.2\r\n"


def head(name):
    return ("POST /attack?tag=%s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n"
            % (name, HOST)).encode()


def hidden(name):
    return ("GET /smuggled?tag=%s HTTP/1.1\r\n%s\r\n" % (name, HOST)).encode()


def cl_te_head(name, lines, end=b"\r\n"):
    """
    A POST framed by "Content-Length: 5" for whoever does not read LINES as a
    Transfer-Encoding: chunked field, and by chunked for whoever does. Its body, "0\\r\\n\\r\\n"
    and a request (see head_body), is one request to the first, two to the second.
    """
    return ("POST /attack?tag=%s HTTP/1.1\r\n%sContent-Length: 5\r\n" % (name, HOST)).encode() + \
        lines + end


def head_body(name):
    return b"0\r\n\r\n" + hidden(name)


HOP = ["connection", "keep-alive", "te", "trailer", "proxy-connection", "upgrade",
       "x-hop-secret", "x-hop-secret2"]


def ext_term(name, opener, closer):
    """
    Funky chunks, EXT.TERM: a size line whose extension holds a bare LF. A reader that
    ends the line at the LF takes the chunk data from there, DELTA bytes before a reader
    that skips the extension to the CRLF does; the body ends that much sooner for it, and
    the last DELTA bytes of the other's data, a last chunk and a request, are its own.
    """
    r = hidden(name)
    tail = b"\r\n0\r\n\r\n" + r
    delta = len(tail)
    size = delta + 16
    filler = b"x" * (delta - 2 - len(closer)) + closer + b"\r\n"
    assert len(filler) == delta
    body = b"%x" % size + opener + b"\n" + filler + b"p" * (size - delta) + tail
    return body + b"\r\n0\r\n\r\n"


def cases():
    c = {}

    def add(name, kind, what, body, payload=None, hd=None):
        c[name] = {"kind": kind, "what": what, "body": body, "payload": payload, "head": hd}

    def add_head(name, kind, what, lines, end=b"\r\n"):
        add(name, kind, what, head_body(name), hd=cl_te_head(name, lines, end))

    add("ext_lf", "smuggle", "a bare LF inside a chunk extension (funky chunks EXT.TERM)",
        ext_term("ext_lf", b";", b""))
    add("ext_quoted_lf", "smuggle", "a bare LF inside a quoted-string extension value",
        ext_term("ext_quoted_lf", b';a="', b'"'))
    add("size_lf", "smuggle", "bare LF line ends after the last chunk: 0\\n\\n",
        b"0\n\n" + hidden("size_lf"))
    add("size_lf_data", "smuggle", "a bare LF after a chunk size",
        b"5\nhello\r\n0\r\n\r\n" + hidden("size_lf_data"))
    add("data_lf", "smuggle", "a bare LF after chunk data",
        b"5\r\nhello\n0\r\n\r\n" + hidden("data_lf"))
    add("trailer_lf_end", "smuggle", "the trailer section ended by a bare LF",
        b"0\r\n\n" + hidden("trailer_lf_end"))
    add("trailer_lf", "smuggle", "a trailer line ended by a bare LF, then a bare LF",
        b"0\r\nX-T: a\n\n" + hidden("trailer_lf"))
    add("trailer_request", "malformed", "a request line and its head as trailers",
        b"0\r\n" + hidden("trailer_request"))
    add("ext_no_semicolon", "malformed", "a chunk extension without ';' (5 xyz)",
        b"5 xyz\r\nhello\r\n0\r\n\r\n" + hidden("ext_no_semicolon"))
    add("size_space", "malformed", "whitespace inside a chunk size (1 0)",
        b"1 0\r\n" + b"s" * 16 + b"\r\n0\r\n\r\n")
    add("size_0x", "malformed", "a chunk size with 0x (0x10)",
        b"0x10\r\n" + b"s" * 16 + b"\r\n0\r\n\r\n")
    add("size_negative", "malformed", "a negative chunk size (-1)",
        b"-1\r\nhello\r\n0\r\n\r\n")
    add("size_overflow", "malformed", "a chunk size over 64 bits (ffffffffffffffffff)",
        b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n")
    add("ext_nul", "malformed", "NUL in a chunk extension",
        b"5;a\x00b\r\nhello\r\n0\r\n\r\n")
    add("ext_quoted_open", "malformed", "an unterminated quoted-string extension",
        b'5;a="abc\r\nhello\r\n0\r\n\r\n')
    add("trailer_obs_fold", "malformed", "a trailer continued by obs-fold",
        b"0\r\nX-T: a\r\n b\r\n\r\n")
    add("trailer_space_colon", "malformed", "a trailer with whitespace before the colon",
        b"0\r\nX-T : a\r\n\r\n")
    add("data_overrun", "malformed", "more chunk data than the size, a request after it",
        b"5\r\nhello" + hidden("data_overrun"))
    add("size_cr", "malformed", "a bare CR after a chunk size",
        b"5\rhello\r\n0\r\n\r\n")
    add("valid_ext_trailers", "valid",
        "chunk extensions (token, quoted-string with quoted-pairs) and two trailers",
        b"5;name=value\r\nhello\r\n6 ; q=\"a \\\"b\\\" ;c\"\r\n world\r\n0;end\r\n"
        b"X-Checksum: 5eb63bbbe01eeed093cb22bb8f5acdc3\r\nX-Note: caf\xc3\xa9, done\r\n\r\n",
        b"hello world")
    # The head: a Transfer-Encoding only a lenient reader sees, beside a Content-Length.
    add_head("te_space_colon", "hsmuggle", "whitespace before the colon of Transfer-Encoding",
             b"Transfer-Encoding : chunked\r\n")
    add_head("te_tab_colon", "hsmuggle", "HTAB before the colon of Transfer-Encoding",
             b"Transfer-Encoding\t: chunked\r\n")
    add_head("te_vt_name", "hsmuggle", "VT (0x0b) before the colon of Transfer-Encoding",
             b"Transfer-Encoding\x0b: chunked\r\n")
    add_head("te_nel_name", "hsmuggle", "NEL (0x85) before the colon of Transfer-Encoding",
             b"Transfer-Encoding\x85: chunked\r\n")
    add_head("te_nbsp_name", "hsmuggle", "NBSP (0xa0) before the name Transfer-Encoding",
             b"\xa0Transfer-Encoding: chunked\r\n")
    add_head("te_obs_fold", "hsmuggle", "Transfer-Encoding in a line continued by obs-fold",
             b"X-Pad: a\r\n Transfer-Encoding: chunked\r\n")
    add_head("te_lf_line", "hsmuggle", "Transfer-Encoding after a field line ended by a bare LF",
             b"X-Pad: a\nTransfer-Encoding: chunked\r\n")
    add_head("te_lf_end", "hsmuggle", "Transfer-Encoding, then the head ended by a bare LF",
             b"Transfer-Encoding: chunked\r\n", b"\n")
    add_head("te_nul_value", "hsmuggle", "NUL after chunked in Transfer-Encoding",
             b"Transfer-Encoding: chunked\x00\r\n")
    add_head("te_substring", "hsmuggle", "Transfer-Encoding: xchunked (chunked inside a coding)",
             b"Transfer-Encoding: xchunked\r\n")
    add_head("te_cr_name", "hmalformed", "Transfer\\rEncoding (CR | 0x20 is '-')",
             b"Transfer\rEncoding: chunked\r\n")
    add_head("te_bare_cr_line", "hmalformed", "a field line holding a bare CR, then chunked",
             b"X-Pad: a\rTransfer-Encoding: chunked\r\n")
    add_head("cl_space_colon", "hmalformed", "Content-Length with whitespace before its colon",
             b"Content-Length : 40\r\n")
    add("hop_fields", "hop",
        "hop-by-hop fields and the ones Connection names, any case, over two Connection fields",
        b"hello", b"hello",
        hd=("POST /attack?tag=hop_fields HTTP/1.1\r\n%sConnection: keep-alive, X-Hop-Secret\r\n"
            "X-Hop-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
            "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTrailer: X-T\r\n"
            "CONNECTION: x-HOP-secret2\r\nx-hop-SECRET2: 2\r\nContent-Length: 5\r\n"
            "X-Kept: yes\r\n\r\n" % HOST).encode())
    fake = b"0\r\n\r\n" + hidden("valid_data") + b"\n\n1\n"
    add("valid_data", "valid", "chunk data holding bare LFs, CRLFs, a last chunk and a request",
        b"%x\r\n" % len(fake) + fake + b"\r\n0\r\n\r\n", fake)
    return c


CASES = cases()


def request(name):
    case = CASES[name]
    out = (case["head"] or head(name)) + case["body"]
    if case["kind"] == "valid":
        out += ("GET /second?tag=%s HTTP/1.1\r\n%s\r\n" % (name, HOST)).encode()
    return out


def parse_statuses(data):
    """Status codes of the complete responses in DATA (Content-Length bodies only)."""
    out = []
    while True:
        i = data.find(b"\r\n\r\n")
        if i < 0:
            return out
        lines = data[:i].decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ")[1])
        except (IndexError, ValueError):
            out.append(None)
            return out
        n = 0
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v.strip())
        if len(data) < i + 4 + n:
            return out
        out.append(status)
        data = data[i + 4 + n:]


def send(name, host, port, secs):
    """Sends the case in one write; reads until the peer closes, every answer came, or SECS."""
    want = {"valid": 2, "hop": 1}.get(CASES[name]["kind"])
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        s.sendall(request(name))
    except OSError:
        pass  # a peer that answers and closes early is not an error here
    t0 = time.time()
    data = b""
    end = "timeout"
    while time.time() - t0 < secs:
        s.settimeout(max(0.05, secs - (time.time() - t0)))
        try:
            b = s.recv(1 << 16)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not b:
            end = "eof"
            break
        data += b
        if want is not None and len(parse_statuses(data)) >= want:
            end = "answered"
            break
    s.close()
    return parse_statuses(data), end


def read_log(path, offset):
    """The events of PATH from byte OFFSET, once it has stayed still for 0.3 s (10 s at most)."""
    last, still = -1, 0
    for _ in range(100):
        size = os.path.getsize(path)
        still = still + 1 if size == last else 0
        if still >= 3:
            break
        last = size
        time.sleep(0.1)
    with open(path, "rb") as f:
        f.seek(offset)
        return [json.loads(ln) for ln in f.read().decode().splitlines() if ln.strip()]


def bad(reqs, proxied):
    """
    Requests the upstream saw that the sender of the bytes did not send as requests. Through
    hydrofoil: those without the X-Forwarded-For it sets on each request it forwards (a
    /smuggled that hydrofoil itself took for a pipelined request carries it, and is no
    smuggling: both ends agree). Straight: those to /smuggled.
    """
    if proxied:
        return [e["target"] for e in reqs
                if not any(n.lower() == "x-forwarded-for" for n, _ in e["headers"])]
    return [e["target"] for e in reqs if e["target"].startswith("/smuggled")]


def run(name, host, port, path, secs, via):
    """
    Sends case NAME and reads what LOG says came of it. Prints OUTCOME STORY:
      smuggled  the upstream saw a request the sender did not send as one (see bad())
      refused   answered [400] and closed
      one       exactly one request to /attack at the upstream, nothing unread after its body
      intact    (valid cases) [200, 200]; the body as sent, its data as meant; then /second
      clean     (hop cases) [200]; one request to /attack, its body as sent, with no field of
                HOP but the upstream's own Connection, and X-Kept
      other     anything else
    """
    case, proxied = CASES[name], via == "proxied"
    offset = os.path.getsize(path)
    statuses, end = send(name, host, port, float(secs))
    evs = read_log(path, offset)
    reqs = [e for e in evs if e["event"] == "request"]
    tagged = [e for e in reqs if e["target"] == "/attack?tag=" + name]
    conns = {e["conn"]: e["seq"] for e in tagged}
    junk = [e["why"] for e in evs if e["event"] == "refused" and e["conn"] in conns
            and e["seq"] > conns[e["conn"]]]
    second = [e for e in reqs if e["target"] == "/second?tag=" + name]
    never = bad(reqs, proxied)
    story = "answered %s, connection %s; upstream: %d request(s) to /attack, %s, junk after the " \
            "body %s" % (statuses, end, len(tagged), "smuggled %s" % never if never else
                         "nothing smuggled", junk)
    if never:
        outcome = "smuggled"
    elif case["kind"] == "valid":
        t = tagged[0] if len(tagged) == 1 else None
        raw_ok = t is not None and t["raw_body"] == case["body"].decode("latin-1")
        data_ok = t is not None and t["payload"] == case["payload"].decode("latin-1")
        story += "; body as sent %s, data %s, trailers %s, then %d /second" % (
            raw_ok, data_ok, t["trailers"] if t else None, len(second))
        ok = statuses == [200, 200] and raw_ok and data_ok and not junk and len(second) == 1
        outcome = "intact" if ok else "other"
    elif case["kind"] == "hop":
        t = tagged[0] if len(tagged) == 1 else None
        names = [n.lower() for n, _ in t["headers"]] if t else []
        leaked = [n for n in names if n in HOP]
        story += "; hop-by-hop fields that went on %s, fields %s" % (leaked, names)
        ok = statuses == [200] and t is not None and not leaked and "x-kept" in names and \
            t["payload"] == case["payload"].decode("latin-1") and not junk
        outcome = "clean" if ok else "other"
    elif statuses == [400] and end in ("eof", "reset"):
        outcome = "refused"
    elif len(tagged) == 1 and not junk:
        outcome = "one"
    else:
        outcome = "other"
    print(outcome, story)
    return 0


def audit(path, via):
    """Prints "clean" or "dirty", then the requests of the whole LOG that bad() finds."""
    never = bad([e for e in read_log(path, 0) if e["event"] == "request"], via == "proxied")
    print("dirty" if never else "clean", never)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "list":
        for name, c in CASES.items():
            print(name, c["kind"], c["what"])
        return 0
    if len(argv) == 8 and argv[1] == "run":
        return run(*argv[2:])
    if len(argv) == 4 and argv[1] == "audit":
        return audit(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
