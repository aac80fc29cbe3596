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
                    output.WriteError(g.Error!);
                    output.WriteError("Try `sysctl --help' for more information.");
                    return Task.FromResult(1);
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
            output.WriteError("sysctl: no variables specified");
            output.WriteError("Try `sysctl --help' for more information.");
            return Task.FromResult(1);
        }
        int status = 0;
        foreach (var operand in g.Operands)
        {
            if (write || operand.Contains('='))
                status += WriteSetting(operand);
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
                output.WriteError($"sysctl: \"{setting}\" must be of the form name=value");
                return 1;
            }
            if (eq == 0)
            {
                output.WriteError($"sysctl: malformed setting \"{setting}\"");
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
}
