using System.Text;

namespace NetLab.Tools.Http;

/// <summary>An HTTP/1.x response head (RFC 9112 §4): status line and header fields, up to the empty line.</summary>
public sealed record HttpResponseHead(int MinorVersion, int Status, string Reason, IReadOnlyList<(string Name, string Value)> Fields)
{
    public string? Field(string name)
    {
        foreach (var (n, v) in Fields) if (n.Equals(name, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }

    /// <summary>The head's lines as received (status line first), without line ends: what curl -i and -I print.</summary>
    public IReadOnlyList<string> Lines { get; init; } = [];

    public static HttpParseStatus TryParse(ReadOnlySpan<byte> buffer, out HttpResponseHead? head, out int length, out string? error)
    {
        head = null;
        error = null;
        length = 0;
        int end = HttpRequestHead.FindEnd(buffer, out int terminator);
        if (end < 0)
        {
            if (buffer.Length < HttpRequestHead.MaxHeadLength) return HttpParseStatus.Incomplete;
            error = "response head too long";
            return HttpParseStatus.Invalid;
        }
        length = end + terminator;
        var lines = Encoding.Latin1.GetString(buffer[..end]).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]
        var parts = lines[0].Split(' ', 3);
        if (parts.Length < 2 || parts[0] is not ("HTTP/1.1" or "HTTP/1.0") || parts[1].Length != 3
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int status))
        {
            error = "malformed status line";
            return HttpParseStatus.Invalid;
        }
        if (!HttpRequestHead.TryParseFields(lines, out var fields, out error)) return HttpParseStatus.Invalid;
        head = new HttpResponseHead(parts[0][^1] - '0', status, parts.Length == 3 ? parts[2] : "", fields) { Lines = lines };
        return HttpParseStatus.Complete;
    }
}
