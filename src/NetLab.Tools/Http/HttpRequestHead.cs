using System.Text;

namespace NetLab.Tools.Http;

/// <summary>Kestrel's HttpParseResult in three values: a whole head, more bytes needed, or a bad request.</summary>
public enum HttpParseStatus { Complete, Incomplete, Invalid }

/// <summary>
/// An HTTP/1.x request head (RFC 9112 §2-§5): request line and header fields, up to the empty line.
/// Lines end in CRLF; a bare LF is accepted as RFC 9112 §2.2 allows. Field names compare case-insensitively.
/// </summary>
public sealed record HttpRequestHead(string Method, string Target, int MinorVersion, IReadOnlyList<(string Name, string Value)> Fields)
{
    /// <summary>The longest head accepted (Kestrel's and nginx's default is in the same range).</summary>
    public const int MaxHeadLength = 16 * 1024;

    public string? Field(string name)
    {
        foreach (var (n, v) in Fields) if (n.Equals(name, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }

    /// <summary>RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".</summary>
    public bool KeepAlive
    {
        get
        {
            var c = Field("Connection");
            bool has(string token) => c is not null && c.Split(',').Any(t => t.Trim().Equals(token, StringComparison.OrdinalIgnoreCase));
            return MinorVersion >= 1 ? !has("close") : has("keep-alive");
        }
    }

    /// <summary>
    /// Parses the head at the start of <paramref name="buffer"/>; on Complete, <paramref name="length"/> is its
    /// size including the empty line. Invalid carries the reason in <paramref name="error"/>.
    /// </summary>
    public static HttpParseStatus TryParse(ReadOnlySpan<byte> buffer, out HttpRequestHead? head, out int length, out string? error)
    {
        head = null;
        error = null;
        length = 0;
        int end = FindEnd(buffer, out int terminator);
        if (end < 0)
        {
            if (buffer.Length < MaxHeadLength) return HttpParseStatus.Incomplete;
            error = "request head too long";
            return HttpParseStatus.Invalid;
        }
        length = end + terminator;
        // Latin-1 keeps every byte as one char: obs-text in field values survives, nothing throws.
        var lines = Encoding.Latin1.GetString(buffer[..end]).Split('\n');
        var requestLine = lines[0].TrimEnd('\r').Split(' ');
        if (requestLine.Length != 3 || requestLine[0].Length == 0 || requestLine[1].Length == 0)
        {
            error = "malformed request line";
            return HttpParseStatus.Invalid;
        }
        var version = requestLine[2];
        if (version is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            error = $"unsupported version {version}";
            return HttpParseStatus.Invalid;
        }
        if (!TryParseFields(lines, out var fields, out error)) return HttpParseStatus.Invalid;
        head = new HttpRequestHead(requestLine[0], requestLine[1], version[^1] - '0', fields);
        return HttpParseStatus.Complete;
    }

    /// <summary>Header fields from lines[1..]; RFC 9112 §5.1: no whitespace before the colon, no obsolete line folding.</summary>
    internal static bool TryParseFields(string[] lines, out List<(string Name, string Value)> fields, out string? error)
    {
        fields = [];
        error = null;
        for (int i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            int colon = line.IndexOf(':');
            if (colon <= 0 || line[colon - 1] is ' ' or '\t' || line[0] is ' ' or '\t')
            {
                error = "malformed header field";
                return false;
            }
            fields.Add((line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }
        return true;
    }

    /// <summary>Where the head ends (before the empty line) and how long that line's terminator is, or -1.</summary>
    internal static int FindEnd(ReadOnlySpan<byte> b, out int terminator)
    {
        int limit = Math.Min(b.Length, MaxHeadLength);
        for (int i = 0; i < limit; i++)
        {
            if (b[i] != '\n') continue;
            if (i + 1 < b.Length && b[i + 1] == '\n') { terminator = 2; return i; }
            if (i + 2 < b.Length && b[i + 1] == '\r' && b[i + 2] == '\n') { terminator = 3; return i; }
        }
        terminator = 0;
        return -1;
    }

    public override string ToString() => $"{Method} {Target} HTTP/1.{MinorVersion}";
}
