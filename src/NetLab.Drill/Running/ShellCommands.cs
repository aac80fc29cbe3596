using System.Globalization;
using System.Text;
using NetLab.Core.Sysctl;

namespace NetLab.Drill.Running;

/// <summary>
/// The shell commands of a script's backquoted blocks, as far as they reach the host under test: <c>sysctl -q k=v</c>,
/// <c>echo v &gt; /proc/sys/...</c>, <c>set_sysctls.py /proc/sys/...=v</c>, and scripts such as
/// <c>../common/defaults.sh</c>, whose lines run the same way. Everything else (<c>tc</c>, <c>ip tcp_metrics</c>,
/// <c>/sys/module</c> parameters, the sysctl restore script) has no NetLab counterpart and is skipped with a warning.
/// </summary>
internal sealed class ShellCommands(SysctlTree sysctl, Action<string> warn)
{
    private const int MaxIncludeDepth = 8;

    /// <summary>Runs the lines of <paramref name="text"/>; <paramref name="directory"/> resolves relative script paths.
    /// Returns an error for a sysctl NetLab knows but refuses (like sysctl's "Invalid argument"), else null.</summary>
    public string? Run(string text, string directory) => Run(text, directory, 0);

    private string? Run(string text, string directory, int depth)
    {
        // A backslash at the end of a line continues the command on the next one, as in sh.
        foreach (var raw in text.Replace("\\\r\n", " ").Replace("\\\n", " ").Split('\n'))
        {
            string line = StripComment(raw).Trim();
            if (line.Length == 0) continue;
            var words = SplitWords(line);
            if (words.Count == 0) continue;
            string cmd = words[0];
            string? error = null;
            if (cmd == "sysctl") error = Sysctl(words.Skip(1));
            else if (cmd == "echo" && words.Count == 4 && words[2] == ">" && words[3].StartsWith("/proc/sys/", StringComparison.Ordinal))
                error = Set(ProcToKey(words[3]), words[1]);
            else if (Path.GetFileName(cmd) == "set_sysctls.py")
            {
                foreach (var arg in words.Skip(1))
                {
                    int eq = arg.IndexOf('=');
                    if (eq < 0 || !arg.StartsWith("/proc/sys/", StringComparison.Ordinal)) { warn($"set_sysctls.py: ignored argument '{arg}'"); continue; }
                    error ??= Set(ProcToKey(arg[..eq]), arg[(eq + 1)..]);
                }
            }
            else if (cmd.EndsWith(".sh", StringComparison.Ordinal) && !cmd.StartsWith("/tmp/", StringComparison.Ordinal))
                error = Include(Path.GetFullPath(Path.Combine(directory, cmd)), depth);
            else if (cmd.StartsWith("/tmp/sysctl_restore_", StringComparison.Ordinal)) { } // restores the host's sysctls: nothing to undo in a fresh host
            else warn($"shell command ignored (no NetLab counterpart): {line}");
            if (error is not null) return error;
        }
        return null;
    }

    private string? Include(string path, int depth)
    {
        if (depth >= MaxIncludeDepth) return $"{path}: included scripts nest too deeply";
        if (!File.Exists(path)) return $"{path}: No such file or directory";
        string text = File.ReadAllText(path);
        string dir = Path.GetDirectoryName(path)!;
        // A symbolic link checked out as a plain file holds only its target's path (tcp/common/defaults.sh does).
        string trimmed = text.Trim();
        if (!trimmed.Contains('\n') && !trimmed.Contains(' ') && trimmed.EndsWith(".sh", StringComparison.Ordinal))
            return Include(Path.GetFullPath(Path.Combine(dir, trimmed)), depth + 1);
        return Run(text, dir, depth + 1);
    }

    private string? Sysctl(IEnumerable<string> args)
    {
        foreach (var arg in args)
        {
            if (arg.StartsWith('-')) continue; // -q, -w
            int eq = arg.IndexOf('=');
            if (eq < 0) { warn($"sysctl: reading '{arg}' has no effect here"); continue; }
            var error = Set(arg[..eq], arg[(eq + 1)..]);
            if (error is not null) return error;
        }
        return null;
    }

    private string? Set(string key, string value)
    {
        switch (sysctl.TrySet(key, value))
        {
            case SysctlResult.Ok: return null;
            case SysctlResult.UnknownKey:
                warn($"sysctl {key}: not modelled by NetLab; ignored");
                return null;
            default:
                return $"sysctl: setting key \"{key}\": Invalid argument (value '{value}')";
        }
    }

    private static string ProcToKey(string path) => path["/proc/sys/".Length..].Replace('/', '.');

    private static string StripComment(string line)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') quoted = !quoted;
            else if (line[i] == '#' && !quoted && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }
        return line;
    }

    /// <summary>Words split on blanks, with "..." quoting and $((arithmetic)) expanded, as the shell would.</summary>
    internal static List<string> SplitWords(string line)
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"') { quoted = !quoted; any = true; continue; }
            if (!quoted && char.IsWhiteSpace(c))
            {
                if (any) words.Add(sb.ToString());
                sb.Clear();
                any = false;
                continue;
            }
            if (c == '$' && line.AsSpan(i).StartsWith("$(("))
            {
                int end = line.IndexOf("))", i, StringComparison.Ordinal);
                if (end > 0 && Arithmetic(line[(i + 3)..end]) is { } v)
                {
                    sb.Append(v.ToString(CultureInfo.InvariantCulture));
                    i = end + 1;
                    any = true;
                    continue;
                }
            }
            sb.Append(c);
            any = true;
        }
        if (any) words.Add(sb.ToString());
        return words;
    }

    /// <summary>$(( )) with integers, + - * / and parentheses; null when it is anything else.</summary>
    internal static long? Arithmetic(string expr)
    {
        int i = 0;
        long? Sum()
        {
            var left = Product();
            while (left is not null && Skip() is '+' or '-')
            {
                char op = expr[i++];
                var right = Product();
                if (right is null) return null;
                left = op == '+' ? left + right : left - right;
            }
            return left;
        }
        long? Product()
        {
            var left = Atom();
            while (left is not null && Skip() is '*' or '/')
            {
                char op = expr[i++];
                var right = Atom();
                if (right is null || (op == '/' && right == 0)) return null;
                left = op == '*' ? left * right : left / right;
            }
            return left;
        }
        long? Atom()
        {
            char c = Skip();
            if (c == '(')
            {
                i++;
                var v = Sum();
                if (Skip() != ')') return null;
                i++;
                return v;
            }
            int start = i;
            while (i < expr.Length && char.IsAsciiDigit(expr[i])) i++;
            return i > start && long.TryParse(expr.AsSpan(start, i - start), CultureInfo.InvariantCulture, out long n) ? n : null;
        }
        char Skip()
        {
            while (i < expr.Length && char.IsWhiteSpace(expr[i])) i++;
            return i < expr.Length ? expr[i] : '\0';
        }
        var result = Sum();
        return Skip() == '\0' ? result : null;
    }
}
