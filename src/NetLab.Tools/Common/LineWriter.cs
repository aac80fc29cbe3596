using System.Text;

namespace NetLab.Tools.Common;

/// <summary>
/// stdout for tools that print a line in pieces (traceroute prints probe by probe): text is
/// buffered until its newline, then handed on as one line at that instant.
/// </summary>
internal sealed class LineWriter(IToolOutput output)
{
    private readonly StringBuilder _pending = new();

    public void Write(string text)
    {
        int start = 0;
        for (int nl; (nl = text.IndexOf('\n', start)) >= 0; start = nl + 1)
        {
            _pending.Append(text, start, nl - start);
            output.WriteLine(_pending.ToString());
            _pending.Clear();
        }
        _pending.Append(text, start, text.Length - start);
    }

    /// <summary>At exit: a last line without its newline still reaches the terminal.</summary>
    public void Flush()
    {
        if (_pending.Length == 0) return;
        output.WriteLine(_pending.ToString());
        _pending.Clear();
    }
}
