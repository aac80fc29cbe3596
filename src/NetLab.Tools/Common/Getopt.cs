namespace NetLab.Tools.Common;

/// <summary>
/// glibc getopt(3) with its default argument permutation: options may follow operands, bundled
/// flags ("-nq"), attached or separate arguments ("-c3", "-c 3"), "--" ends the options. Error
/// messages are glibc's.
/// </summary>
internal sealed class Getopt(string program, IReadOnlyList<string> args, string optstring)
{
    private int _index;
    private int _charIndex;

    /// <summary>Non-option arguments, in order.</summary>
    public List<string> Operands { get; } = [];

    /// <summary>The message getopt printed for the last '?' result.</summary>
    public string? Error { get; private set; }

    /// <summary>The next option: its character (or '?' after an error) and argument; false when none are left.</summary>
    public bool Next(out char option, out string? argument)
    {
        option = '\0';
        argument = null;
        while (_charIndex == 0)
        {
            if (_index >= args.Count) return false;
            var a = args[_index];
            if (a == "--")
            {
                Operands.AddRange(args.Skip(_index + 1));
                _index = args.Count;
                return false;
            }
            if (a.Length < 2 || a[0] != '-') { Operands.Add(a); _index++; continue; }
            _charIndex = 1;
        }
        var word = args[_index];
        char c = word[_charIndex++];
        int at = c == ':' ? -1 : optstring.IndexOf(c);
        if (at < 0)
        {
            Error = $"{program}: invalid option -- '{c}'";
            option = '?';
            EndWordIfConsumed(word);
            return true;
        }
        bool takesArgument = at + 1 < optstring.Length && optstring[at + 1] == ':';
        if (!takesArgument)
        {
            option = c;
            EndWordIfConsumed(word);
            return true;
        }
        if (_charIndex < word.Length) argument = word[_charIndex..];
        else if (_index + 1 < args.Count) argument = args[++_index];
        else
        {
            Error = $"{program}: option requires an argument -- '{c}'";
            option = '?';
            _index++;
            _charIndex = 0;
            return true;
        }
        option = c;
        _index++;
        _charIndex = 0;
        return true;
    }

    private void EndWordIfConsumed(string word)
    {
        if (_charIndex < word.Length) return;
        _index++;
        _charIndex = 0;
    }
}
