using NetLab.Core.Sysctl;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// sysctl from procps (sysctl.c) over the host's sysctl tree: read keys (or whole subtrees), write
/// with -w or key=value, list with -a. Options -a/-A/-X, -n, -N, -w, -e, -q.
/// </summary>
public sealed class SysctlTool : ITool
{
    public string Name => "sysctl";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var output = ctx.Output;
        var tree = ctx.Host.Sysctl;
        bool all = false, valuesOnly = false, namesOnly = false, write = false, ignoreErrors = false, quiet = false;
        var g = new Getopt("sysctl", args, "aAXnNweq");
        while (g.Next(out var opt, out _))
        {
            switch (opt)
            {
                case 'a' or 'A' or 'X': all = true; break;
                case 'n': valuesOnly = true; break;
                case 'N': namesOnly = true; break;
                case 'w': write = true; break;
                case 'e': ignoreErrors = true; break;
                case 'q': quiet = true; break;
                default:
                    // procps 4: the complaint on stderr, then Usage(stdout), which exits 0.
                    output.WriteError(g.Error!);
                    foreach (var line in UsageText) output.WriteLine(line);
                    return Task.FromResult(0);
            }
        }
        void Print(string key, string value) =>
            output.WriteLine(namesOnly ? key : valuesOnly ? value : $"{key} = {value}");

        if (all)
        {
            foreach (var (key, value) in tree.All()) Print(key, value);
            return Task.FromResult(0);
        }
        if (g.Operands.Count == 0)
        {
            foreach (var line in UsageText) output.WriteError(line); // Usage(stderr): exit 1
            return Task.FromResult(1);
        }
        // procps 4.0.2 adds up read failures but ORs write failures: "sysctl a=1 b=2" exits 1,
        // "sysctl a=1 net.ipv4.foo" 2 (both seen on Linux).
        int status = 0;
        foreach (var operand in g.Operands)
        {
            if (write || operand.Contains('='))
                status |= WriteSetting(operand);
            else
                status += ReadSetting(operand);
        }
        return Task.FromResult(status);

        // ReadSetting(): one key, or every key below a directory (DisplayAll).
        int ReadSetting(string name)
        {
            var key = SysctlTree.Normalize(name);
            if (tree.TryGet(key, out var value))
            {
                Print(key, value);
                return 0;
            }
            var below = tree.All().Where(e => e.Key.StartsWith(key + ".", StringComparison.Ordinal)).ToList();
            if (key.Length > 0 && below.Count > 0)
            {
                foreach (var (k, v) in below) Print(k, v);
                return 0;
            }
            return CannotStat(key);
        }

        // WriteSetting(): echo "key = value" as typed when the kernel took it.
        int WriteSetting(string setting)
        {
            int eq = setting.IndexOf('=');
            if (eq < 0)
            {
                output.WriteError("sysctl: command line(0): invalid syntax, continuing...");
                return 1;
            }
            if (eq == 0)
            {
                // An empty name is /proc/sys/ itself, which the path check refuses.
                output.WriteError("sysctl: Path is not under /proc/sys/: /proc/sys/");
                return 1;
            }
            var key = SysctlTree.Normalize(setting[..eq]);
            var value = setting[(eq + 1)..];
            switch (tree.TrySet(key, value))
            {
                case SysctlResult.UnknownKey:
                    return CannotStat(key);
                case SysctlResult.InvalidArgument:
                    output.WriteError($"sysctl: setting key \"{key}\": Invalid argument");
                    return 1;
            }
            if (!quiet) Print(key, value);
            return 0;
        }

        int CannotStat(string key)
        {
            if (ignoreErrors) return 0;
            output.WriteError($"sysctl: cannot stat /proc/sys/{key.Replace('.', '/')}: No such file or directory");
            return 1;
        }
    }

    /// <summary>procps 4.0.2's Usage() text, word for word (it lists options NetLab does not have).</summary>
    private static readonly string[] UsageText =
    [
        "",
        "Usage:",
        " sysctl [options] [variable[=value] ...]",
        "",
        "Options:",
        "  -a, --all            display all variables",
        "  -A                   alias of -a",
        "  -X                   alias of -a",
        "      --deprecated     include deprecated parameters to listing",
        "      --dry-run        Print the key and values but do not write",
        "  -b, --binary         print value without new line",
        "  -e, --ignore         ignore unknown variables errors",
        "  -N, --names          print variable names without values",
        "  -n, --values         print only values of the given variable(s)",
        "  -p, --load[=<file>]  read values from file",
        "  -f                   alias of -p",
        "      --system         read values from all system directories",
        "  -r, --pattern <expression>",
        "                       select setting that match expression",
        "  -q, --quiet          do not echo variable set",
        "  -w, --write          enable writing a value to variable",
        "  -o                   does nothing",
        "  -x                   does nothing",
        "  -d                   alias of -h",
        "",
        " -h, --help     display this help and exit",
        " -V, --version  output version information and exit",
        "",
        "For more details see sysctl(8).",
    ];
}
