using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Tools.Common;
using NetLab.Tools.Http;

namespace NetLab.Tools.Curl;

/// <summary>
/// curl 7.88 (Debian bookworm) for one http:// URL with an IPv4 address (NetLab has no resolver yet):
/// GET, or HEAD with <c>-I</c>; <c>-o FILE</c> writes the body to a file of the real file system,
/// otherwise it is printed line by line; <c>-i</c> prints the response head first; <c>-r RANGE</c> asks
/// for a byte range; <c>-s</c>/<c>-S</c>;
/// <c>-w FORMAT</c> with %{http_code}, %{size_download}, %{speed_download} and %{time_total}. Bodies are
/// framed by Content-Length, chunked coding or the end of the connection (RFC 9112 §6.3). Errors print
/// curl's message and exit with its code (3 bad URL, 6 unresolved host, 7 connect, 18 short body, 23 write,
/// 56 receive). No progress meter is printed.
/// </summary>
public sealed class CurlTool : ITool
{
    public string Name => "curl";

    private const string UserAgent = "curl/7.88.1";
    private const int BufferSize = 64 * 1024;

    private sealed class Options
    {
        public bool Silent, ShowError, Head, Include;
        public string? OutFile, WriteOut, Url, Range;
    }

    private sealed class CurlError(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
    }

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var o = new Options();
        var g = new Getopt("curl", args, "sSIio:r:w:");
        while (g.Next(out var opt, out var arg))
        {
            switch (opt)
            {
                case 's': o.Silent = true; break;
                case 'S': o.ShowError = true; break;
                case 'I': o.Head = true; break;
                case 'i': o.Include = true; break;
                case 'o': o.OutFile = arg; break;
                case 'r': o.Range = arg; break;
                case 'w': o.WriteOut = arg; break;
                default:
                    ctx.Output.WriteError(g.Error ?? $"curl: option -{opt}: is not supported by NetLab's curl");
                    ctx.Output.WriteError("curl: try 'curl --help' or 'curl --manual' for more information");
                    return 2;
            }
        }
        if (g.Operands.Count != 1)
        {
            ctx.Output.WriteError(g.Operands.Count == 0 ? "curl: no URL specified!" : "curl: NetLab's curl fetches one URL");
            return 2;
        }
        o.Url = g.Operands[0];
        long start = ctx.Now.Nanoseconds;
        try
        {
            var (status, size) = await Fetch(ctx, o);
            if (o.WriteOut is not null) WriteOut(ctx, o.WriteOut, status, size, ctx.Now.Nanoseconds - start);
            return 0;
        }
        catch (CurlError e)
        {
            if (!o.Silent || o.ShowError) ctx.Output.WriteError($"curl: ({e.Code}) {e.Message}");
            return e.Code;
        }
    }

    private static async Task<(int Status, long Size)> Fetch(ToolContext ctx, Options o)
    {
        var (address, port, hostField, path) = ParseUrl(o.Url!);
        using var c = ctx.Host.Tcp.Open();
        SocketOwners.AddTcp(ctx, "curl", c);
        long start = ctx.Now.Nanoseconds;
        try
        {
            try
            {
                await c.ConnectAsync(address, port, ctx.CancellationToken);
            }
            catch (NetLabSocketException)
            {
                long ms = (ctx.Now.Nanoseconds - start) / 1_000_000;
                throw new CurlError(7, $"Failed to connect to {address} port {port} after {ms} ms: Couldn't connect to server");
            }
            var range = o.Range is null ? "" : $"Range: bytes={o.Range}\r\n";
            var request = $"{(o.Head ? "HEAD" : "GET")} {path} HTTP/1.1\r\nHost: {hostField}\r\n{range}User-Agent: {UserAgent}\r\nAccept: */*\r\n\r\n";
            await c.SendAsync(Encoding.ASCII.GetBytes(request), ctx.CancellationToken);
            var reader = new Reader(c, ctx.CancellationToken);
            var head = await reader.ReadHead();
            if (o.Head || o.Include)
            {
                foreach (var line in head.Lines) ctx.Output.WriteLine(line);
                ctx.Output.WriteLine("");
            }
            if (o.Head) return (head.Status, 0);
            using var sink = new BodySink(ctx, o.OutFile);
            long size = await ReadBody(reader, head, sink);
            return (head.Status, size);
        }
        catch (NetLabSocketException e)
        {
            throw new CurlError(56, $"Recv failure: {ErrnoText.Describe(e.Errno)}");
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, c);
        }
    }

    /// <summary>http://ADDRESS[:PORT][/PATH]: the address, port, Host field and request target.</summary>
    private static (Ipv4Address, ushort, string, string) ParseUrl(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0 && !url[..scheme].Equals("http", StringComparison.OrdinalIgnoreCase))
            throw new CurlError(1, $"Protocol \"{url[..scheme]}\" not supported or disabled in libcurl");
        var rest = scheme >= 0 ? url[(scheme + 3)..] : url;
        int slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        var path = slash >= 0 ? rest[slash..] : "/";
        if (authority.Length == 0) throw new CurlError(3, "URL using bad/illegal format or missing URL");
        int colon = authority.LastIndexOf(':');
        var host = colon >= 0 ? authority[..colon] : authority;
        ushort port = 80;
        if (colon >= 0 && !ushort.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port))
            throw new CurlError(3, "URL using bad/illegal format or missing URL");
        if (!Ipv4Address.TryParse(host, out var address)) throw new CurlError(6, $"Could not resolve host: {host}");
        return (address, port, authority, path);
    }

    /// <summary>RFC 9112 §6.3: no body for 1xx/204/304; chunked; Content-Length; else until the server closes.</summary>
    private static async Task<long> ReadBody(Reader r, HttpResponseHead head, BodySink sink)
    {
        if (head.Status is (>= 100 and < 200) or 204 or 304) return 0;
        if (head.Field("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            long total = 0;
            while (true)
            {
                var sizeLine = await r.ReadLine();
                int semi = sizeLine.IndexOf(';');
                if (!long.TryParse(semi >= 0 ? sizeLine[..semi] : sizeLine, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long chunk))
                    throw new CurlError(56, "Illegal or missing hexadecimal sequence in chunked-encoding");
                if (chunk == 0) break;
                if (await r.CopyTo(sink, chunk) < chunk) throw new CurlError(18, "transfer closed with outstanding read data remaining");
                total += chunk;
                await r.ReadLine();
            }
            while ((await r.ReadLine()).Length > 0) { }   // trailer fields
            return total;
        }
        if (head.Field("Content-Length") is { } cl)
        {
            if (!long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out long length))
                throw new CurlError(8, "Invalid Content-Length: value");
            long got = await r.CopyTo(sink, length);
            if (got < length) throw new CurlError(18, $"transfer closed with {length - got} bytes remaining to read");
            return got;
        }
        return await r.CopyTo(sink, long.MaxValue);
    }

    private static void WriteOut(ToolContext ctx, string format, int status, long size, long elapsedNs)
    {
        double seconds = elapsedNs / 1e9;
        var text = format
            .Replace("%{http_code}", status.ToString("000", CultureInfo.InvariantCulture))
            .Replace("%{size_download}", size.ToString(CultureInfo.InvariantCulture))
            .Replace("%{speed_download}", (seconds > 0 ? (long)(size / seconds) : 0).ToString(CultureInfo.InvariantCulture))
            .Replace("%{time_total}", seconds.ToString("0.000000", CultureInfo.InvariantCulture))
            .Replace("\\n", "\n");
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
            if (i < lines.Length - 1 || lines[i].Length > 0) ctx.Output.WriteLine(lines[i]);
    }

    /// <summary>Buffered reads from the connection: the head, CRLF lines (chunk sizes), and counted copies.</summary>
    private sealed class Reader(TcpSocket c, CancellationToken ct)
    {
        private readonly byte[] _buf = new byte[BufferSize];
        private int _start, _end;

        private async Task<bool> Fill()
        {
            if (_start > 0)
            {
                Array.Copy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buf.Length) return false;
            int n = await c.ReceiveAsync(_buf.AsMemory(_end), ct);
            _end += n;
            return n > 0;
        }

        public async Task<HttpResponseHead> ReadHead()
        {
            while (true)
            {
                var s = HttpResponseHead.TryParse(_buf.AsSpan(_start, _end - _start), out var head, out int length, out _);
                if (s == HttpParseStatus.Complete) { _start += length; return head!; }
                if (s == HttpParseStatus.Invalid) throw new CurlError(8, "Weird server reply");
                if (!await Fill()) throw new CurlError(52, "Empty reply from server");
            }
        }

        public async Task<string> ReadLine()
        {
            while (true)
            {
                int nl = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
                if (nl >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buf, _start, nl - _start).TrimEnd('\r');
                    _start = nl + 1;
                    return line;
                }
                if (!await Fill()) throw new CurlError(18, "transfer closed with outstanding read data remaining");
            }
        }

        /// <summary>Copies up to <paramref name="count"/> bytes (or until EOF) to the sink; returns how many.</summary>
        public async Task<long> CopyTo(BodySink sink, long count)
        {
            long done = 0;
            while (done < count)
            {
                if (_start == _end && !await Fill()) break;
                int n = (int)Math.Min(_end - _start, count - done);
                sink.Write(_buf.AsSpan(_start, n));
                _start += n;
                done += n;
            }
            return done;
        }
    }

    /// <summary>Where the body goes: a file (-o), or stdout as lines (the last, unterminated one at the end).</summary>
    private sealed class BodySink : IDisposable
    {
        private readonly ToolContext _ctx;
        private readonly FileStream? _file;
        private readonly List<byte> _line = [];

        public BodySink(ToolContext ctx, string? path)
        {
            _ctx = ctx;
            if (path is null) return;
            try
            {
                _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, BufferSize);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CurlError(23, $"Failure writing output to destination ({e.Message})");
            }
        }

        public void Write(ReadOnlySpan<byte> data)
        {
            if (_file is not null) { _file.Write(data); return; }
            foreach (var b in data)
            {
                if (b == '\n') { _ctx.Output.WriteLine(Encoding.UTF8.GetString(_line.ToArray())); _line.Clear(); }
                else _line.Add(b);
            }
        }

        public void Dispose()
        {
            if (_line.Count > 0) _ctx.Output.WriteLine(Encoding.UTF8.GetString(_line.ToArray()));
            _file?.Dispose();
        }
    }
}
