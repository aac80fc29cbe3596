using System.Text;

namespace NetLab.Tools.Ss;

/// <summary>
/// iproute2 6.1 misc/ss.c's output buffer and renderer: every line is one token per column; widths
/// come from the longest token (render_calc_width). On a non-tty (NetLab's output is never a
/// terminal) ss takes the "compact output" branch: a column is as wide as its longest token plus
/// its left delimiter, nothing is spread over the screen. Tokens may hold "\n\t" (the -i/-m line):
/// they count by their bytes, so the Process heading grows with the longest info line, as it does
/// in Linux.
/// </summary>
internal sealed class SsColumns
{
    public enum Col { Netid, State, RecvQ, SendQ, Addr, Serv, RAddr, RServ, Ext, Proc }

    private enum Align { Left, Right }

    // columns[] in ss.c: header, left delimiter, alignment.
    private static readonly (string Header, string LDelim, Align Align)[] Defs =
    [
        ("Netid", "", Align.Left),
        ("State", " ", Align.Left),
        ("Recv-Q", " ", Align.Left),
        ("Send-Q", " ", Align.Left),
        ("Local Address:", " ", Align.Right),
        ("Port", "", Align.Left),
        ("Peer Address:", " ", Align.Right),
        ("Port", "", Align.Left),
        ("Process", "", Align.Left),
        ("", "", Align.Left),
    ];

    private readonly bool[] _disabled = new bool[Defs.Length];
    private readonly List<string[]> _rows = [];

    public void Disable(Col c) => _disabled[(int)c] = true;

    /// <summary>print_header(): every enabled column's heading.</summary>
    public void AddHeader() => _rows.Add(Defs.Select(d => d.Header).ToArray());

    /// <summary>One socket: a token per column (missing ones are empty).</summary>
    public void AddRow(string netid, string state, int recvQ, int sendQ, string addr, string serv, string raddr, string rserv, string ext)
        => _rows.Add([netid, state, $"{recvQ,-6}", $"{sendQ,-6}", addr, serv, raddr, rserv, ext, ""]);

    /// <summary>render(): the text ss writes, lines separated by '\n' (without a final one).</summary>
    public IEnumerable<string> Render()
    {
        if (_rows.Count == 0) yield break;
        var width = new int[Defs.Length];
        bool first = true;
        for (int c = 0; c < Defs.Length; c++)
        {
            if (_disabled[c]) continue;
            int maxLen = _rows.Max(r => r[c].Length);
            width[c] = !first && maxLen > 0 ? maxLen + Defs[c].LDelim.Length : maxLen;
            if (width[c] > 0) first = false;
        }
        var sb = new StringBuilder();
        foreach (var row in _rows)
        {
            bool lineStarted = false;
            for (int c = 0; c < Defs.Length; c++)
            {
                if (_disabled[c]) continue;
                int printed = 0;
                if (lineStarted)
                {
                    sb.Append(Defs[c].LDelim);
                    printed = Defs[c].LDelim.Length;
                }
                lineStarted = true;
                var token = row[c];
                if (width[c] > 0 && Defs[c].Align == Align.Right)
                {
                    int s = width[c] - token.Length - printed;
                    if (s > 0) { sb.Append(' ', s); printed += s; }
                }
                sb.Append(token);
                printed += token.Length;
                if (width[c] > 0 && Defs[c].Align == Align.Left)
                {
                    int s = width[c] - printed;
                    if (s > 0) sb.Append(' ', s);
                }
            }
            sb.Append('\n');
        }
        var text = sb.ToString();
        foreach (var line in text[..^1].Split('\n')) yield return line;
    }
}
