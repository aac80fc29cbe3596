using System.Text;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Tools.Http;
using NetLab.Tools.Servers;

namespace NetLab.Tools.Tests;

/// <summary>serve (echo, discard, UDP echo, the static-file HTTP server) and curl, on a — sw — b in virtual time.</summary>
public sealed class HttpAndServeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netlab-http-").FullName;

    public HttpAndServeTests()
    {
        File.WriteAllText(Path.Combine(_dir, "index.html"), "<h1>NetLab</h1>\n");
        File.WriteAllText(Path.Combine(_dir, "two lines.txt"), "one\ntwo");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Curl_GetsFiles_HeadPrintsTheHead_MissingIs404_AndTheServerLogsEachRequest()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Nets.Start(w, b, $"serve tcp:80:http:{_dir}");
            var get = Nets.Run(w, a, "curl http://10.0.0.2/");
            Assert.Equal(0, get.Status);
            Assert.Equal(["<h1>NetLab</h1>"], get.Out.Lines);
            var spaced = Nets.Run(w, a, "curl http://10.0.0.2:80/two%20lines.txt");
            Assert.Equal(["one", "two"], spaced.Out.Lines);
            var head = Nets.Run(w, a, "curl -I http://10.0.0.2/index.html");
            Assert.Equal(["HTTP/1.1 200 OK", "Server: NetLab", "Content-Type: text/html", "Content-Length: 16", "Accept-Ranges: bytes", "Connection: keep-alive", ""], head.Out.Lines);
            var missing = Nets.Run(w, a, "curl -s -w '%{http_code} %{size_download}\\n' http://10.0.0.2/../etc/passwd");
            Assert.Equal(0, missing.Status);
            Assert.Equal(["404 0"], missing.Out.Lines);
            Assert.Equal(["404 0"], Nets.Run(w, a, "curl -s -w '%{http_code} %{size_download}\\n' http://10.0.0.2/a%00b").Out.Lines);
            server.Stop.Cancel();
            Assert.Equal(ToolRunner.InterruptedStatus, w.Scheduler.Run(server.Task));
            var log = server.Out.Lines;
            Assert.Equal(5, log.Count(l => l.StartsWith("tcp:80:http 10.0.0.1:", StringComparison.Ordinal) && l.EndsWith(" accepted", StringComparison.Ordinal)));
            Assert.Contains(log, l => l.EndsWith(" \"GET / HTTP/1.1\" 200 16", StringComparison.Ordinal));
            Assert.Contains(log, l => l.EndsWith(" \"HEAD /index.html HTTP/1.1\" 200 16", StringComparison.Ordinal));
            Assert.Contains(log, l => l.EndsWith(" \"GET /../etc/passwd HTTP/1.1\" 404", StringComparison.Ordinal));
            w.RunFor(SimDuration.FromSeconds(120));   // past TIME_WAIT
            Assert.Equal(0, w.Pool.Outstanding);
        }
    }

    /// <summary>
    /// Three requests in one segment: the two HTTP/1.1 ones are answered in order on the same connection; the
    /// HTTP/1.0 one without keep-alive is answered and the server closes (RFC 9112 §9.3).
    /// </summary>
    [Fact]
    public void Http_PipelinedRequests_AnsweredInOrder_Http10Closes()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Nets.Start(w, b, $"serve tcp:80:http:{_dir}");
            var c = a.Tcp.Open();
            var requests = "GET /index.html HTTP/1.1\r\nHost: b\r\n\r\nGET /nope HTTP/1.1\r\nHost: b\r\n\r\nHEAD / HTTP/1.0\r\n\r\n";
            var reply = new MemoryStream();
            w.Scheduler.Run(Exchange());
            async Task<int> Exchange()
            {
                await c.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 80);
                await c.SendAsync(Encoding.ASCII.GetBytes(requests));
                var buf = new byte[4096];
                while (await c.ReceiveAsync(buf) is var n and > 0) reply.Write(buf, 0, n);
                return 0;
            }
            var text = Encoding.ASCII.GetString(reply.ToArray());
            Assert.Equal(
                "HTTP/1.1 200 OK\r\nServer: NetLab\r\nContent-Type: text/html\r\nContent-Length: 16\r\nAccept-Ranges: bytes\r\nConnection: keep-alive\r\n\r\n<h1>NetLab</h1>\n"
                + "HTTP/1.1 404 Not Found\r\nServer: NetLab\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nServer: NetLab\r\nContent-Type: text/html\r\nContent-Length: 16\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n", text);
            c.Close();
            server.Stop.Cancel();
            w.Scheduler.Run(server.Task);
            Assert.Single(server.Out.Lines, l => l.EndsWith(" accepted", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Serve_EchoDiscardAndUdpEcho_LogConnectionsWithTheirByteCounts()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Nets.Start(w, b, "serve tcp:7:echo tcp:9:discard udp:7:echo");
            var echo = Nets.Run(w, a, "nc -N 10.0.0.2 7 <<< hello");
            Assert.Equal(["hello"], echo.Out.Lines);
            Nets.Run(w, a, "nc -N 10.0.0.2 9 <<< gone");
            var udp = Nets.Run(w, a, "nc -u -w 1 10.0.0.2 7 <<< datagram");
            Assert.Equal(["datagram"], udp.Out.Lines);
            w.RunFor(SimDuration.FromMilliseconds(100));
            var log = server.Out.Lines;
            Assert.Contains(log, l => l.StartsWith("tcp:7:echo 10.0.0.1:", StringComparison.Ordinal) && l.EndsWith(" closed: 6 bytes in, 6 bytes out", StringComparison.Ordinal));
            Assert.Contains(log, l => l.StartsWith("tcp:9:discard 10.0.0.1:", StringComparison.Ordinal) && l.EndsWith(" closed: 5 bytes in, 0 bytes out", StringComparison.Ordinal));
            Assert.Contains(log, l => l.StartsWith("udp:7:echo 10.0.0.1:", StringComparison.Ordinal) && l.EndsWith(" echoed 9 bytes", StringComparison.Ordinal));
            server.Stop.Cancel();
            w.Scheduler.Run(server.Task);
        }
    }

    [Fact]
    public void Serve_PortInUse_FailsAtStart()
    {
        var (w, _, b) = Nets.Lan2();
        using (w)
        {
            var first = Nets.Start(w, b, "serve tcp:7:echo");
            var second = Nets.Run(w, b, "serve udp:7:echo tcp:7:discard");
            Assert.Equal(1, second.Status);
            Assert.Equal(["serve: tcp:7:discard: bind: Address already in use"], second.Out.Errors);
            first.Stop.Cancel();
            w.Scheduler.Run(first.Task);
        }
    }

    /// <summary>RFC 9110 §14: one range is served as 206 with Content-Range; past the end is 416; what is not one valid range is ignored (200).</summary>
    [Theory]
    [InlineData("0-3", "206 4", "0123", "bytes 0-3/10")]
    [InlineData("5-", "206 5", "56789", "bytes 5-9/10")]
    [InlineData("-3", "206 3", "789", "bytes 7-9/10")]
    [InlineData("8-20", "206 2", "89", "bytes 8-9/10")]
    [InlineData("10-", "416 0", "", "bytes */10")]
    [InlineData("3-1", "200 10", "0123456789", null)]
    [InlineData("0-1,4-5", "200 10", "0123456789", null)]
    public void Http_Range(string range, string codeAndSize, string body, string? contentRange)
    {
        File.WriteAllText(Path.Combine(_dir, "digits"), "0123456789");
        var output = Path.Combine(_dir, "out");
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Nets.Start(w, b, $"serve tcp:80:http:{_dir}");
            var r = Nets.Run(w, a, $"curl -s -r {range} -o {output} -w '%{{http_code}} %{{size_download}}\\n' http://10.0.0.2/digits");
            Assert.Equal([codeAndSize], r.Out.Lines);
            Assert.Equal(body, File.ReadAllText(output));
            var head = Nets.Run(w, a, $"curl -s -i -r {range} http://10.0.0.2/digits");
            Assert.Equal(contentRange, head.Out.Lines.Where(l => l.StartsWith("Content-Range: ", StringComparison.Ordinal)).Select(l => l[15..]).SingleOrDefault());
            // A HEAD ignores Range (RFC 9110 §14.2).
            Assert.Equal("HTTP/1.1 200 OK", Nets.Run(w, a, $"curl -s -I -r {range} http://10.0.0.2/digits").Out.Lines[0]);
            server.Stop.Cancel();
            w.Scheduler.Run(server.Task);
        }
    }

    [Theory]
    [InlineData("curl http://10.0.0.2:81/", 7, "curl: (7) Failed to connect to 10.0.0.2 port 81 after 8 ms: Couldn't connect to server")]
    [InlineData("curl https://10.0.0.2/", 1, "curl: (1) Protocol \"https\" not supported or disabled in libcurl")]
    [InlineData("curl http://example.com/", 6, "curl: (6) Could not resolve host: example.com")]
    [InlineData("curl http://10.0.0.2:x/", 3, "curl: (3) URL using bad/illegal format or missing URL")]
    public void Curl_Errors_AreCurlsMessagesAndCodes(string command, int status, string error)
    {
        var (w, a, _) = Nets.Lan2();
        using (w)
        {
            var r = Nets.Run(w, a, command);
            Assert.Equal(status, r.Status);
            Assert.Equal([error], r.Out.Errors);
        }
    }

    /// <summary>A chunked body (RFC 9112 §7.1) with an extension and a trailer, then a close-delimited one.</summary>
    [Fact]
    public void Curl_ReadsChunkedAndCloseDelimitedBodies()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            foreach (var (port, response, expected) in new[]
            {
                (8000, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nab\nc\r\n3\r\nde\n\r\n0\r\nX-Trailer: 1\r\n\r\n", new[] { "ab", "cde" }),
                (8001, "HTTP/1.0 200 OK\r\n\r\nuntil\nclose", new[] { "until", "close" }),
            })
            {
                var l = b.Tcp.Open();
                Assert.Equal(Errno.None, l.Bind(Ipv4Address.Any, (ushort)port));
                Assert.Equal(Errno.None, l.Listen(1));
                _ = ServeOnce();
                async Task<int> ServeOnce()
                {
                    var c = await l.AcceptAsync();
                    var buf = new byte[1024];
                    await c.ReceiveAsync(buf);
                    await c.SendAsync(Encoding.ASCII.GetBytes(response));
                    c.Close();
                    l.Close();
                    return 0;
                }
                var r = Nets.Run(w, a, $"curl -s http://10.0.0.2:{port}/");
                Assert.Equal(0, r.Status);
                Assert.Equal(expected, r.Out.Lines);
            }
        }
    }

    [Theory]
    [InlineData("tcp:7:echo", true, null)]
    [InlineData("tcp:8080:http:/", true, null)]
    [InlineData("udp:7:discard", false, "udp:7:discard: SPEC is tcp:PORT:echo, udp:PORT:echo, tcp:PORT:discard or tcp:PORT:http:DIR")]
    [InlineData("tcp:0:echo", false, "tcp:0:echo: invalid port '0'")]
    [InlineData("tcp:80:http:/no/such/dir", false, "tcp:80:http:/no/such/dir: /no/such/dir: No such directory")]
    [InlineData("udp:53:dns:zone", false, "udp:53:dns:zone: the DNS server is not built yet (issue #6, DNS and DHCP)")]
    [InlineData("udp:67:dhcp:10.0.0.10-10.0.0.20", false, "udp:67:dhcp:10.0.0.10-10.0.0.20: the DHCP server is not built yet (issue #6, DNS and DHCP)")]
    public void ServeSpec_Parses(string text, bool ok, string? error)
    {
        Assert.Equal(ok, ServeSpec.TryParse(text, out _, out var e));
        Assert.Equal(error, e);
    }

    /// <summary>CONVENTIONS rule 12: the same head parsed whole and from every prefix: Incomplete until it is all there.</summary>
    [Fact]
    public void RequestHead_EveryPrefixIsIncomplete_TheWholeIsComplete()
    {
        var bytes = Encoding.ASCII.GetBytes("GET /a%20b?q=1 HTTP/1.1\r\nHost: 10.77.0.2\r\nConnection: close\r\n\r\nBODY");
        int headLength = bytes.Length - 4;
        for (int i = 0; i < headLength; i++)
            Assert.Equal(HttpParseStatus.Incomplete, HttpRequestHead.TryParse(bytes.AsSpan(0, i), out _, out _, out _));
        Assert.Equal(HttpParseStatus.Complete, HttpRequestHead.TryParse(bytes, out var head, out int length, out _));
        Assert.Equal(headLength, length);
        Assert.Equal(("GET", "/a%20b?q=1", 1), (head!.Method, head.Target, head.MinorVersion));
        Assert.Equal("10.77.0.2", head.Field("host"));
        Assert.False(head.KeepAlive);
    }

    [Theory]
    [InlineData("GET / HTTP/2.0\r\n\r\n", "unsupported version HTTP/2.0")]
    [InlineData("GET /\r\n\r\n", "malformed request line")]
    [InlineData("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "malformed header field")]
    [InlineData("GET / HTTP/1.1\r\n folded\r\n\r\n", "malformed header field")]
    public void RequestHead_Invalid(string text, string error)
    {
        Assert.Equal(HttpParseStatus.Invalid, HttpRequestHead.TryParse(Encoding.ASCII.GetBytes(text), out _, out _, out var e));
        Assert.Equal(error, e);
    }
}
