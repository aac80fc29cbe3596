using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetLab.Lab.Scenarios;

// Typed access to YAML nodes that reports instead of throwing: each helper records an error at the offending
// node and hands back a fallback, so that one pass over the file finds every error.
internal sealed partial class ScenarioReader
{
    private readonly string _file;
    private readonly List<ScenarioError> _errors = [];

    public ScenarioReader(string file) => _file = file;

    public IReadOnlyList<ScenarioError> Errors => _errors;

    private SourceLocation At(YamlNode node) => new(_file, (int)node.Start.Line, (int)node.Start.Column);

    private void Error(YamlNode node, string path, string message) => _errors.Add(new(At(node), path, message));

    private static string Join(string path, string field) => path.Length == 0 ? field : $"{path}.{field}";

    /// <summary>"key:" with nothing after it, or ~ / null: YAML's null.</summary>
    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode { Value: { Length: > 40 } v } => $"'{v[..40]}...'",
        YamlScalarNode s => $"'{s.Value}'",
        _ => node.NodeType.ToString(),
    };

    /// <summary>
    /// The fields of a mapping with a fixed schema. Null-valued fields are left out, so "delay:" means the default;
    /// a null node is an empty mapping. Unknown fields are reported and left out. Null after reporting a non-mapping.
    /// </summary>
    private Dictionary<string, YamlNode>? Fields(YamlNode node, string path, string what, string[] known)
    {
        if (IsNull(node)) return [];
        if (node is not YamlMappingNode map)
        {
            Error(node, path, $"expected a mapping of {what} fields, got {Describe(node)}");
            return null;
        }
        var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                Error(keyNode, path, $"expected a field name, got {Describe(keyNode)}");
                continue;
            }
            if (!known.Contains(key))
            {
                Error(keyNode, Join(path, key), $"unknown field '{key}' in {what}; expected one of: {string.Join(", ", known)}");
                continue;
            }
            if (!IsNull(value)) fields[key] = value;
        }
        return fields;
    }

    /// <summary>The entries of a mapping whose keys the user names (hosts, interfaces, sysctls); a null node has none.</summary>
    private List<(string Name, YamlNode Key, YamlNode Value)> Entries(YamlNode node, string path, string what)
    {
        var entries = new List<(string, YamlNode, YamlNode)>();
        if (IsNull(node)) return entries;
        if (node is not YamlMappingNode map)
        {
            Error(node, path, $"expected a mapping of {what}, got {Describe(node)}");
            return entries;
        }
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is YamlScalarNode { Value: { } name }) entries.Add((name, keyNode, value));
            else Error(keyNode, path, $"expected a name, got {Describe(keyNode)}");
        }
        return entries;
    }

    /// <summary>The items of a list; a null node has none. Null after reporting a non-list.</summary>
    private IReadOnlyList<YamlNode>? Items(YamlNode node, string path, string what)
    {
        if (IsNull(node)) return [];
        if (node is YamlSequenceNode seq) return [.. seq.Children];
        Error(node, path, $"expected a list of {what}, got {Describe(node)}");
        return null;
    }

    private YamlNode? Required(Dictionary<string, YamlNode> fields, string name, YamlNode owner, string path)
    {
        if (fields.TryGetValue(name, out var node)) return node;
        Error(owner, path, $"missing required field '{name}'");
        return null;
    }

    /// <summary>A scalar parsed by <paramref name="parse"/>, or <paramref name="fallback"/> after reporting why not.</summary>
    private T Value<T>(YamlNode node, string path, TryParseText<T> parse, T fallback)
    {
        if (IsNull(node))
        {
            Error(node, path, "missing value");
            return fallback;
        }
        if (node is not YamlScalarNode { Value: { } text })
        {
            Error(node, path, $"expected a single value, got {Describe(node)}");
            return fallback;
        }
        if (parse(text, out var value, out var error)) return value;
        Error(node, path, error);
        return fallback;
    }

    /// <summary>Reports a bad name at its key. The name is kept either way, so references to it add no more errors.</summary>
    private void CheckName(YamlNode key, string path, TryParseText<string> parse) => Value(key, path, parse, "");

    /// <summary>An optional field: <paramref name="fallback"/> when absent or invalid.</summary>
    private T Optional<T>(Dictionary<string, YamlNode> fields, string name, string path, TryParseText<T> parse, T fallback) =>
        fields.TryGetValue(name, out var node) ? Value(node, Join(path, name), parse, fallback) : fallback;
}
