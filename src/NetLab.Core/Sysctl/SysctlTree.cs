using System.Globalization;
using System.Reflection;

namespace NetLab.Core.Sysctl;

/// <summary>
/// Marks a property as a sysctl. The name is relative to the prefix its holder is registered
/// under ("ip_forward" under "net.ipv4."). Min/Max mirror proc_dointvec_minmax bounds.
/// Supported property types: int, long, int[] (tab-separated vectors such as tcp_rmem), string.
/// A setter that throws <see cref="ArgumentException"/> refuses the value (EINVAL), as a proc
/// handler that checks more than the bounds does (ipv4_local_port_range()).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SysctlAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public long Min { get; init; } = long.MinValue;
    public long Max { get; init; } = long.MaxValue;
}

public enum SysctlResult { Ok, UnknownKey, InvalidArgument }

/// <summary>
/// One host's sysctl namespace (/proc/sys/net/...). Holders are plain objects whose properties
/// the stack reads directly where it uses them (CONVENTIONS rule 8); this tree only names them.
/// </summary>
public sealed class SysctlTree
{
    private sealed record Entry(string Key, object Holder, PropertyInfo Property, SysctlAttribute Attribute);

    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Registers every [Sysctl] property of <paramref name="holder"/> under <paramref name="prefix"/>.</summary>
    public void Register(string prefix, object holder)
    {
        foreach (var p in holder.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attr = p.GetCustomAttribute<SysctlAttribute>();
            if (attr is null) continue;
            var key = prefix + attr.Name;
            _entries[key] = new Entry(key, holder, p, attr);
        }
    }

    /// <summary>Removes all keys under <paramref name="prefix"/> (a device going away).</summary>
    public void Unregister(string prefix)
    {
        foreach (var k in _entries.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            _entries.Remove(k);
    }

    public bool Contains(string key) => _entries.ContainsKey(Normalize(key));

    public IEnumerable<string> Keys => _entries.Keys;

    /// <summary>sysctl accepts both "net.ipv4.ip_forward" and "net/ipv4/ip_forward".</summary>
    public static string Normalize(string key) => key.Replace('/', '.');

    public bool TryGet(string key, out string value)
    {
        value = "";
        if (!_entries.TryGetValue(Normalize(key), out var e)) return false;
        value = Format(e.Property.GetValue(e.Holder));
        return true;
    }

    public string Get(string key) =>
        TryGet(key, out var v) ? v : throw new KeyNotFoundException($"sysctl: cannot stat /proc/sys/{Normalize(key).Replace('.', '/')}: No such file or directory");

    public SysctlResult TrySet(string key, string value)
    {
        if (!_entries.TryGetValue(Normalize(key), out var e)) return SysctlResult.UnknownKey;
        try
        {
            return TrySet(e, value);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is ArgumentException)
        {
            return SysctlResult.InvalidArgument;
        }
    }

    private static SysctlResult TrySet(Entry e, string value)
    {
        var t = e.Property.PropertyType;
        var parts = value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (t == typeof(string))
        {
            e.Property.SetValue(e.Holder, value.Trim());
            return SysctlResult.Ok;
        }
        if (parts.Length == 0) return SysctlResult.InvalidArgument;
        var numbers = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numbers[i]))
                return SysctlResult.InvalidArgument;
            if (numbers[i] < e.Attribute.Min || numbers[i] > e.Attribute.Max) return SysctlResult.InvalidArgument;
            // proc_dointvec rejects a value that does not fit an int (EINVAL) instead of truncating it.
            if (t == typeof(int[]) && numbers[i] is < int.MinValue or > int.MaxValue) return SysctlResult.InvalidArgument;
        }
        if (t == typeof(int))
        {
            if (numbers[0] is < int.MinValue or > int.MaxValue) return SysctlResult.InvalidArgument;
            e.Property.SetValue(e.Holder, (int)numbers[0]);
        }
        else if (t == typeof(long)) e.Property.SetValue(e.Holder, numbers[0]);
        else if (t == typeof(int[]))
        {
            var current = (int[])e.Property.GetValue(e.Holder)!;
            // Like proc_dointvec on a vector: the values given replace the first ones, the rest stay.
            var next = (int[])current.Clone();
            for (int i = 0; i < Math.Min(next.Length, numbers.Length); i++) next[i] = (int)numbers[i];
            e.Property.SetValue(e.Holder, next);
        }
        else return SysctlResult.InvalidArgument;
        return SysctlResult.Ok;
    }

    public void Set(string key, string value)
    {
        switch (TrySet(key, value))
        {
            case SysctlResult.UnknownKey:
                throw new KeyNotFoundException($"sysctl: cannot stat /proc/sys/{Normalize(key).Replace('.', '/')}: No such file or directory");
            case SysctlResult.InvalidArgument:
                throw new ArgumentException($"sysctl: setting key \"{Normalize(key)}\": Invalid argument");
        }
    }

    public IEnumerable<(string Key, string Value)> All() =>
        _entries.Values.Select(e => (e.Key, Format(e.Property.GetValue(e.Holder))));

    private static string Format(object? v) => v switch
    {
        int[] a => string.Join('\t', a.Select(x => x.ToString(CultureInfo.InvariantCulture))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        null => "",
        _ => v.ToString() ?? "",
    };
}
