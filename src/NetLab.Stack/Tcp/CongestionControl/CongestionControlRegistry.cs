namespace NetLab.Stack.Tcp.CongestionControl;

/// <summary>tcp_cong_list: the modules built in, by name (tcp_register_congestion_control).</summary>
public static class CongestionControlRegistry
{
    private static readonly (string Name, Func<ICongestionControl> Create)[] Modules =
    [
        ("reno", () => new RenoCongestionControl()),
        ("cubic", () => new CubicCongestionControl()),
    ];

    /// <summary>tcp_available_congestion_control: names separated by spaces, in registration order.</summary>
    public static string Available => string.Join(' ', Modules.Select(m => m.Name));

    public static bool IsKnown(string name) => Modules.Any(m => m.Name == name);

    /// <summary>A new instance of the module named <paramref name="name"/>, or null (ENOENT).</summary>
    public static ICongestionControl? Create(string name)
    {
        foreach (var m in Modules) if (m.Name == name) return m.Create();
        return null;
    }
}
