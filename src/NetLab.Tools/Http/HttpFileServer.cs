using System.Globalization;
using System.Text;
using NetLab.Stack.Tcp;

namespace NetLab.Tools.Http;

/// <summary>
/// A static-file HTTP/1.1 origin server over one NetLab TCP connection (RFC 9110, RFC 9112): GET and HEAD
/// of files under a root directory, Content-Length framing, persistent connections (pipelined requests
/// are answered in order), 400 for a malformed request, 404 for a missing file, 405 for other methods,
/// one byte range per request (206, or 416 past the end). A directory serves its index.html. Without a
/// reliable clock, no Date field (RFC 9110 §6.6.1). Conditional requests, multiple ranges and request
/// bodies other than Content-Length are not supported yet (issue #7 grows this server).
/// </summary>
public sealed class HttpFileServer(string root, Action<string> log)
{
    private const int ChunkSize = 64 * 1024;
    private readonly string _root = Path.GetFullPath(root);

    /// <summary>Serves requests until the client closes or a response ends the connection; returns bytes in and out.</summary>
    public async Task<(long Received, long Sent)> ServeConnectionAsync(TcpSocket c, CancellationToken cancellationToken)
    {
        var buf = new byte[HttpRequestHead.MaxHeadLength];
        var chunk = new byte[ChunkSize];
        int filled = 0;
        long received = 0, sent = 0;
        while (true)
        {
            var status = HttpRequestHead.TryParse(buf.AsSpan(0, filled), out var head, out int length, out var error);
            if (status == HttpParseStatus.Incomplete)
            {
                int n = await c.ReceiveAsync(buf.AsMemory(filled), cancellationToken);
                if (n == 0) return (received, sent);
                filled += n;
                received += n;
                continue;
            }
            if (status == HttpParseStatus.Invalid)
            {
                log($"bad request ({error}): 400");
                sent += await SendHead(c, 400, "Bad Request", "text/plain", 0, keepAlive: false, cancellationToken);
                return (received, sent);
            }
            // A request body (Content-Length only: RFC 9112 §6.3) is read and ignored.
            long bodyLength = 0;
            if (head!.Field("Transfer-Encoding") is not null
                || (head.Field("Content-Length") is { } cl && !long.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out bodyLength)))
            {
                log($"\"{head}\" unsupported request body: 400");
                sent += await SendHead(c, 400, "Bad Request", "text/plain", 0, keepAlive: false, cancellationToken);
                return (received, sent);
            }
            Array.Copy(buf, length, buf, 0, filled - length);
            filled -= length;
            while (bodyLength > 0)
            {
                if (filled == 0)
                {
                    int n = await c.ReceiveAsync(buf, cancellationToken);
                    if (n == 0) return (received, sent);
                    filled = n;
                    received += n;
                }
                int skip = (int)Math.Min(bodyLength, filled);
                Array.Copy(buf, skip, buf, 0, filled - skip);
                filled -= skip;
                bodyLength -= skip;
            }
            bool keepAlive = head.KeepAlive;
            sent += await Respond(c, head, keepAlive, chunk, cancellationToken);
            if (!keepAlive) return (received, sent);
        }
    }

    private async Task<long> Respond(TcpSocket c, HttpRequestHead head, bool keepAlive, byte[] chunk, CancellationToken ct)
    {
        if (head.Method is not ("GET" or "HEAD"))
        {
            log($"\"{head}\" 405");
            return await SendHead(c, 405, "Method Not Allowed", "text/plain", 0, keepAlive, ct, "Allow: GET, HEAD\r\n");
        }
        using var file = Open(head.Target);
        if (file is null)
        {
            log($"\"{head}\" 404");
            return await SendHead(c, 404, "Not Found", "text/plain", 0, keepAlive, ct);
        }
        long size = file.Length;
        long first = 0, length = size;
        int status = 200;
        string extra = "Accept-Ranges: bytes\r\n";
        // RFC 9110 §14.2: Range is defined for GET only; a HEAD gets the whole representation's head.
        switch (ParseRange(head.Method == "GET" ? head.Field("Range") : null, size, out long from, out long to))
        {
            case RangeResult.Satisfiable:
                (status, first, length) = (206, from, to - from + 1);
                extra += string.Create(CultureInfo.InvariantCulture, $"Content-Range: bytes {from}-{to}/{size}\r\n");
                break;
            case RangeResult.Unsatisfiable:
                log(string.Create(CultureInfo.InvariantCulture, $"\"{head}\" 416 {size}"));
                return await SendHead(c, 416, "Range Not Satisfiable", "text/plain", 0, keepAlive, ct,
                    string.Create(CultureInfo.InvariantCulture, $"Content-Range: bytes */{size}\r\n"));
        }
        long sent = await SendHead(c, status, status == 206 ? "Partial Content" : "OK", ContentType(file.Name), length, keepAlive, ct, extra);
        if (head.Method == "GET")
        {
            file.Position = first;
            long left = length;
            while (left > 0)
            {
                int n = file.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
                if (n == 0) break;   // the file shrank: the client sees a short body, as from any server
                await c.SendAsync(chunk.AsMemory(0, n), ct);
                left -= n;
                sent += n;
            }
        }
        log(string.Create(CultureInfo.InvariantCulture, $"\"{head}\" {status} {length}"));
        return sent;
    }

    private enum RangeResult { None, Satisfiable, Unsatisfiable }

    /// <summary>
    /// RFC 9110 §14.2: one byte range (<c>bytes=A-B</c>, <c>bytes=A-</c>, <c>bytes=-N</c>) of a file of
    /// <paramref name="size"/> bytes. A server may ignore Range, and this one ignores what it does not parse and
    /// multiple ranges (§14.2: a 200 with the whole file).
    /// </summary>
    private static RangeResult ParseRange(string? value, long size, out long from, out long to)
    {
        from = to = 0;
        if (value is null || !value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || value.Contains(',')) return RangeResult.None;
        var spec = value[6..].Trim();
        int dash = spec.IndexOf('-');
        if (dash < 0) return RangeResult.None;
        string a = spec[..dash], b = spec[(dash + 1)..];
        const NumberStyles digits = NumberStyles.None;
        if (a.Length == 0)
        {
            // A suffix: the last N bytes (all of a shorter file); a zero-length suffix selects nothing.
            if (!long.TryParse(b, digits, CultureInfo.InvariantCulture, out long suffix)) return RangeResult.None;
            if (suffix == 0 || size == 0) return RangeResult.Unsatisfiable;
            (from, to) = (Math.Max(0, size - suffix), size - 1);
            return RangeResult.Satisfiable;
        }
        if (!long.TryParse(a, digits, CultureInfo.InvariantCulture, out from)) return RangeResult.None;
        to = size - 1;
        if (b.Length > 0 && (!long.TryParse(b, digits, CultureInfo.InvariantCulture, out to) || to < from)) return RangeResult.None;
        if (from >= size) return RangeResult.Unsatisfiable;
        to = Math.Min(to, size - 1);
        return RangeResult.Satisfiable;
    }

    /// <summary>
    /// The file a target names under the root, open for reading, or null (404): percent-decoded, query dropped,
    /// never outside the root; a name with a NUL or a file that cannot be opened is simply not there.
    /// </summary>
    private FileStream? Open(string target)
    {
        if (!target.StartsWith('/')) return null;
        int q = target.IndexOfAny(['?', '#']);
        if (q >= 0) target = target[..q];
        var relative = Uri.UnescapeDataString(target).TrimStart('/');
        if (relative.Contains('\0')) return null;
        var full = Path.GetFullPath(Path.Combine(_root, relative));
        if (full != _root && !full.StartsWith(_root.TrimEnd('/') + "/", StringComparison.Ordinal)) return null;
        if (Directory.Exists(full)) full = Path.Combine(full, "index.html");
        try
        {
            return new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<int> SendHead(TcpSocket c, int status, string reason, string contentType, long length, bool keepAlive,
        CancellationToken ct, string extra = "")
    {
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nServer: NetLab\r\nContent-Type: {contentType}\r\nContent-Length: {length}\r\n{extra}Connection: {(keepAlive ? "keep-alive" : "close")}\r\n\r\n"));
        await c.SendAsync(head, ct);
        return head.Length;
    }

    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "text/html",
        ".txt" => "text/plain",
        ".css" => "text/css",
        ".js" => "text/javascript",
        ".json" => "application/json",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
