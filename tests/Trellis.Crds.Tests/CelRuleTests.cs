using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Trellis.Crds.Tests;

/// <summary>
/// The CEL rules cannot run without an API server; these tests hold what can be checked statically:
/// each rule is where the API server accepts it, its cost is bounded, and the rules the API promises exist.
/// </summary>
public sealed partial class CelRuleTests
{
    // CEL's standard macros and functions, and the Kubernetes IP and CIDR libraries (Kubernetes 1.31+).
    private static readonly HashSet<string> KnownFunctions =
    [
        "all", "exists", "exists_one", "map", "filter", "has", "size", "contains", "startsWith", "endsWith", "matches", "string", "int",
        "isCIDR", "cidr", "masked", "prefixLength", "containsCIDR", "containsIP", "ip", "isIP", "ip.isCanonical", "family",
    ];

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_rule_calls_only_functions_Kubernetes_CEL_provides_and_is_balanced(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        foreach (var (path, schema) in RuleNodes(crd.RootSchema, ""))
        foreach (var rule in Rules(schema))
        {
            var withoutStrings = QuotedString().Replace(rule, "''");
            foreach (Match call in FunctionCall().Matches(withoutStrings))
            {
                var name = call.Groups["name"].Value;
                var function = name == "ip.isCanonical" ? name : name.Split('.')[^1];
                Assert.True(KnownFunctions.Contains(function), $"{crd.Path} {path}: '{function}' in '{rule}' is not a Kubernetes CEL function");
            }
            Assert.Equal(withoutStrings.Count(c => c == '('), withoutStrings.Count(c => c == ')'));
            Assert.Equal(withoutStrings.Count(c => c == '['), withoutStrings.Count(c => c == ']'));
        }
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_field_path_names_a_field_of_the_node_its_rule_is_on(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        foreach (var (path, schema) in RuleNodes(crd.RootSchema, ""))
        foreach (var rule in schema["x-kubernetes-validations"]!.AsArray())
        {
            if ((string?)rule!["fieldPath"] is not { } fieldPath) continue;
            var resolved = PrinterColumnPath.Resolve(schema, fieldPath);
            Assert.True(resolved.Problems.Count == 0, $"{crd.Path} {path}: " + string.Join("; ", resolved.Problems));
        }
    }

    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\(")]
    private static partial Regex FunctionCall();

    [GeneratedRegex(@"'[^']*'|""[^""]*""")]
    private static partial Regex QuotedString();

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_rule_has_a_message_and_bounded_inputs(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var withRules = RuleNodes(crd.RootSchema, "").ToList();
        Assert.NotEmpty(withRules);

        foreach (var (path, schema) in withRules)
        {
            foreach (var rule in schema["x-kubernetes-validations"]!.AsArray())
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)rule!["rule"]), $"{crd.Path} {path}: empty rule");
                Assert.False(string.IsNullOrWhiteSpace((string?)rule["message"]), $"{crd.Path} {path}: rule '{rule["rule"]}' has no message");
            }
            // The API server refuses rules whose estimated cost is unbounded: every string and list they read needs a bound.
            if ((string?)schema["type"] == "string" && path != "")
                Assert.True(schema["maxLength"] is not null || schema["enum"] is not null, $"{crd.Path} {path}: a string with rules needs maxLength");
            if ((string?)schema["type"] == "array")
                Assert.True(schema["maxItems"] is not null, $"{crd.Path} {path}: a list with rules needs maxItems");
        }
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_list_of_addresses_in_the_spec_is_bounded_for_the_spec_level_rules(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var spec = crd.RootSchema["properties"]!["spec"]!["properties"]!.AsObject();
        foreach (var (name, field) in spec)
        {
            if ((string?)field!["type"] != "array" || (string?)field["items"]!["type"] != "string") continue;
            Assert.True(field["maxItems"] is not null, $"{crd.Path} .spec.{name}: no maxItems");
            Assert.True(field["items"]!["maxLength"] is not null, $"{crd.Path} .spec.{name}[]: no maxLength");
        }
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Transition_rules_sit_only_where_old_and_new_values_can_be_paired(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        foreach (var (path, schema) in RuleNodes(crd.RootSchema, ""))
        foreach (var rule in schema["x-kubernetes-validations"]!.AsArray())
            if (((string)rule!["rule"]!).Contains("oldSelf", StringComparison.Ordinal))
                Assert.DoesNotContain("[]", path);
    }

    [Fact]
    public void Podnetwork_rules_cover_cidr_syntax_block_size_per_family_overlap_and_append_only_ranges()
    {
        var spec = ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath)["properties"]!["spec"]!;
        var cidrs = spec["properties"]!["cidrs"]!;

        Assert.Contains(Rules(cidrs["items"]!), rule => rule.Contains("isCIDR(self)") && rule.Contains("masked()"));
        Assert.Contains(Rules(cidrs), rule => rule.Contains("containsCIDR"));
        Assert.Contains(Rules(cidrs), rule => rule.Contains("oldSelf.all(c, c in self)"));
        Assert.Contains(Rules(spec), rule => rule.Contains("family() == 4") && rule.Contains("blockSize.ipv4") && rule.Contains("blockSize.ipv6"));
        Assert.Equal(32d, SchemaValidation.Number(spec["properties"]!["blockSize"]!["properties"]!["ipv4"]!["maximum"]!));
        Assert.Equal(128d, SchemaValidation.Number(spec["properties"]!["blockSize"]!["properties"]!["ipv6"]!["maximum"]!));
    }

    [Fact]
    public void Nodesubnet_rules_cover_addresses_blocks_and_immutable_owner_fields()
    {
        var spec = ConfigFiles.RootSchema(ConfigFiles.NodeSubnetCrdPath)["properties"]!["spec"]!;
        var fields = spec["properties"]!;

        foreach (var cidrList in new[] { "cidrs", "networkCIDRs" })
            Assert.Contains(Rules(fields[cidrList]!["items"]!), rule => rule.Contains("isCIDR(self)"));
        foreach (var addressList in new[] { "gateways", "nodeAddresses" })
            Assert.Contains(Rules(fields[addressList]!["items"]!), rule => rule.Contains("isIP(self)") && rule.Contains("ip.isCanonical(self)"));
        foreach (var immutable in new[] { "nodeName", "podNetwork" })
            Assert.Contains("self == oldSelf", Rules(fields[immutable]!));
        Assert.Contains(Rules(spec), rule => rule.Contains("containsIP"));
        Assert.Contains(Rules(spec), rule => rule.Contains("networkCIDRs"));
        // The bounds every agent enforces (issue 8): no IPv4 block shorter than /8, no IPv6 block shorter than /32.
        Assert.Contains(Rules(fields["cidrs"]!["items"]!), rule => rule.Contains("prefixLength() >=") && rule.Contains("? 8 : 32"));
        Assert.Contains(Rules(fields["podNetwork"]!), rule => rule.Contains("!self.contains('.')"));
        var root = ConfigFiles.RootSchema(ConfigFiles.NodeSubnetCrdPath);
        Assert.Contains(Rules(root), rule => rule.Contains("self.metadata.name == self.spec.podNetwork + '.' + self.spec.nodeName"));
    }

    private static IEnumerable<string> Rules(JsonNode schema) =>
        schema["x-kubernetes-validations"]?.AsArray().Select(rule => (string)rule!["rule"]!) ?? [];

    private static IEnumerable<(string Path, JsonObject Schema)> RuleNodes(JsonObject schema, string path)
    {
        if (schema["x-kubernetes-validations"] is not null) yield return (path, schema);
        foreach (var (name, child) in schema["properties"] as JsonObject ?? [])
        foreach (var found in RuleNodes(child!.AsObject(), $"{path}.{name}"))
            yield return found;
        if (schema["items"] is JsonObject items)
            foreach (var found in RuleNodes(items, $"{path}[]"))
                yield return found;
        if (schema["additionalProperties"] is JsonObject values)
            foreach (var found in RuleNodes(values, $"{path}[*]"))
                yield return found;
    }
}
