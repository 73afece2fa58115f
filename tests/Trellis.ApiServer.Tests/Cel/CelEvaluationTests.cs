using Trellis.ApiServer.Cel;

namespace Trellis.ApiServer.Tests.Cel;

/// <summary>The CEL evaluator against the spec's and Kubernetes' documented results, one expression per row.</summary>
public sealed class CelEvaluationTests
{
    private static object? Run(string expression, IReadOnlyDictionary<string, object?>? variables = null, IReadOnlyDictionary<string, CelType>? types = null)
    {
        var program = CelProgram.Compile(expression, types ?? new Dictionary<string, CelType>());
        return program.Evaluate(variables ?? new Dictionary<string, object?>());
    }

    [Theory]
    // literals, arithmetic, precedence
    [InlineData("1 + 2 * 3", 7L)]
    [InlineData("(1 + 2) * 3", 9L)]
    [InlineData("7 / 2", 3L)]
    [InlineData("-7 / 2", -3L)]
    [InlineData("-7 % 3", -1L)]
    [InlineData("7u / 2u", 3UL)]
    [InlineData("0x10 + 1", 17L)]
    [InlineData("2.5 * 2.0", 5.0)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("1e3", 1000.0)]
    [InlineData("'a' + \"b\" + '''c'''", "abc")]
    [InlineData("r'\\n'", "\\n")]
    [InlineData("'\\x41\\u00e9\\101'", "Aé\u0041")]
    [InlineData("size(b'\\xff\\x00')", 2L)]
    [InlineData("!true || false", false)]
    [InlineData("true ? 1 : 2", 1L)]
    [InlineData("false ? 1 : 2", 2L)]
    // equality and ordering across numeric types
    [InlineData("1 < 2.5", true)]
    [InlineData("2u > 1", true)]
    [InlineData("-1 < 1u", true)]
    [InlineData("9223372036854775807 < 9223372036854775808u", true)]
    [InlineData("dyn(1) == 1.0", true)]
    [InlineData("dyn(1u) == 1", true)]
    [InlineData("[1, 2] == [1, 2]", true)]
    [InlineData("[1, 2] == [2, 1]", false)]
    [InlineData("{'a': 1} == {'a': 1}", true)]
    [InlineData("'abc' < 'abd'", true)]
    [InlineData("b'a' < b'b'", true)]
    [InlineData("false < true", true)]
    // strings (code points) and the strings extension
    [InlineData("size('héllo')", 5L)]
    [InlineData("'hello'.contains('ell')", true)]
    [InlineData("'hello'.startsWith('he') && 'hello'.endsWith('lo')", true)]
    [InlineData("'hello'.matches('^h.*o$')", true)]
    [InlineData("matches('abc', 'b')", true)]
    [InlineData("'héllo'.charAt(1)", "é")]
    [InlineData("'hello'.charAt(5)", "")]
    [InlineData("'hello'.indexOf('l')", 2L)]
    [InlineData("'hello'.indexOf('l', 3)", 3L)]
    [InlineData("'hello'.indexOf('')", 0L)]
    [InlineData("'hello'.lastIndexOf('l')", 3L)]
    [InlineData("'hello'.lastIndexOf('x')", -1L)]
    [InlineData("'HeLLo'.lowerAscii()", "hello")]
    [InlineData("'héllo'.upperAscii()", "HéLLO")]
    [InlineData("'aaa'.replace('a', 'b')", "bbb")]
    [InlineData("'aaa'.replace('a', 'b', 2)", "bba")]
    [InlineData("'a,b,c'.split(',').size()", 3L)]
    [InlineData("'a,b,c'.split(',', 2)[1]", "b,c")]
    [InlineData("'hello'.substring(1, 3)", "el")]
    [InlineData("'hello'.substring(2)", "llo")]
    [InlineData("'  x '.trim()", "x")]
    [InlineData("['a', 'b'].join('-')", "a-b")]
    [InlineData("['a', 'b'].join()", "ab")]
    [InlineData("'abc'.reverse()", "cba")]
    [InlineData("strings.quote('a\"b')", "\"a\\\"b\"")]
    [InlineData("'abc123def'.find('[0-9]+')", "123")]
    [InlineData("'a1b22c333'.findAll('[0-9]+').size()", 3L)]
    [InlineData("'a1b22c333'.findAll('[0-9]+', 2)[1]", "22")]
    // conversions
    [InlineData("int('42') + 1", 43L)]
    [InlineData("int(2.9)", 2L)]
    [InlineData("uint(3)", 3UL)]
    [InlineData("double(3)", 3.0)]
    [InlineData("string(1.5)", "1.5")]
    [InlineData("string(1e21)", "1e+21")]
    [InlineData("string(100000.0)", "100000")]
    [InlineData("string(1000000.0)", "1e+06")]
    [InlineData("string(0.0001)", "0.0001")]
    [InlineData("string(0.00001)", "1e-05")]
    [InlineData("string(-2)", "-2")]
    [InlineData("string(true)", "true")]
    [InlineData("bool('true') && !bool('0')", true)]
    [InlineData("string(bytes('hé'))", "hé")]
    [InlineData("type(1) == int && type('a') == string && type([1]) == list", true)]
    [InlineData("string(duration('1h30m'))", "5400s")]
    [InlineData("duration('1.5s') < duration('2s')", true)]
    [InlineData("timestamp('2024-01-01T00:00:00Z') < timestamp('2024-06-01T00:00:00Z')", true)]
    [InlineData("string(timestamp('2024-01-01T00:00:00Z') + duration('1h'))", "2024-01-01T01:00:00Z")]
    // lists, maps, macros
    [InlineData("[1, 2, 3].size()", 3L)]
    [InlineData("2 in [1, 2, 3]", true)]
    [InlineData("'a' in {'a': 1}", true)]
    [InlineData("[1, 2] + [3]", "[1,2,3]")]
    [InlineData("[1, 2, 3][1]", 2L)]
    [InlineData("{'a': 1, 'b': 2}['b']", 2L)]
    [InlineData("{'a': {'b': 5}}.a.b", 5L)]
    [InlineData("[1, 2, 3].all(x, x > 0)", true)]
    [InlineData("[1, 2, 3].exists(x, x > 2)", true)]
    [InlineData("[1, 2, 3].exists_one(x, x > 1)", false)]
    [InlineData("[1, 2, 3].exists_one(x, x > 2)", true)]
    [InlineData("[1, 2, 3].map(x, x * 2)", "[2,4,6]")]
    [InlineData("[1, 2, 3].map(x, x > 1, x * 10)", "[20,30]")]
    [InlineData("[1, 2, 3].filter(x, x != 2)", "[1,3]")]
    [InlineData("{'a': 1, 'b': 2}.all(k, k.size() == 1)", true)]
    [InlineData("[[1], [2, 3]].map(l, l.size())", "[1,2]")]
    [InlineData("[3, 1, 2].isSorted()", false)]
    [InlineData("[1, 2, 2].isSorted()", true)]
    [InlineData("[1, 2, 3].sum()", 6L)]
    [InlineData("[1.5, 2.5].sum()", 4.0)]
    [InlineData("[3, 1, 2].min()", 1L)]
    [InlineData("['b', 'c', 'a'].max()", "c")]
    [InlineData("[1, 2, 1].indexOf(1)", 0L)]
    [InlineData("[1, 2, 1].lastIndexOf(1)", 2L)]
    [InlineData("sets.contains([1, 2, 3], [2, 3])", true)]
    [InlineData("sets.equivalent([1, 2, 2], [2, 1])", true)]
    [InlineData("sets.intersects([1, 2], [3])", false)]
    // error absorption: && and || commute, macros absorb
    [InlineData("false && 1 / 0 == 1", false)]
    [InlineData("1 / 0 == 1 && false", false)]
    [InlineData("true || 1 / 0 == 1", true)]
    [InlineData("1 / 0 == 1 || true", true)]
    [InlineData("[0, 1].exists(x, 1 / x == 1)", true)]
    [InlineData("[0, 1].all(x, x > 0 && 1 / x == 1)", false)]
    [InlineData("true ? 1 : 1 / 0", 1L)]
    public void Evaluates(string expression, object expected)
    {
        var result = Run(expression);
        if (result is CelListValue list) result = "[" + string.Join(",", list.Items) + "]";
        Assert.Equal(expected, result);
    }

    [Theory]
    [InlineData("1 / 0", "division by zero")]
    [InlineData("1 % 0", "modulus by zero")]
    [InlineData("9223372036854775807 + 1", "integer overflow")]
    [InlineData("-9223372036854775808 - 1", "integer overflow")]
    [InlineData("0u - 1u", "integer overflow")]
    [InlineData("-(-9223372036854775808)", "integer overflow")]
    [InlineData("[1, 2][2]", "index out of bounds: 2")]
    [InlineData("{'a': 1}['b']", "no such key: b")]
    [InlineData("{'a': 1}.b", "no such key: b")]
    [InlineData("int('x')", "cannot convert \"x\" to int")]
    [InlineData("int(1e19)", "range error converting 1e+19 to int")]
    [InlineData("uint(-1)", "unsigned integer overflow")]
    [InlineData("'abc'.substring(4)", "index out of range: 4")]
    [InlineData("[1, 2].all(x, 1 / 0 == x)", "division by zero")]
    [InlineData("1 / 0 == 1 || false", "division by zero")]
    [InlineData("[].min()", "min(list) argument must not be empty")]
    [InlineData("ip('10.0.0.1%eth0')", "IP address \"10.0.0.1%eth0\" with zone value is not allowed")]
    [InlineData("ip('::ffff:1.2.3.4')", "IPv4-mapped IPv6 address \"::ffff:1.2.3.4\" is not allowed")]
    [InlineData("cidr('10.0.0.0/33')", "netip.ParsePrefix(\"10.0.0.0/33\"): prefix length out of range")]
    public void FailsWithTheSpecsError(string expression, string message)
    {
        var result = Run(expression);
        var error = Assert.IsType<CelError>(result);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    // Kubernetes IP library
    [InlineData("isIP('10.0.0.1')", true)]
    [InlineData("isIP('010.0.0.1')", false)]
    [InlineData("isIP('10.0.0')", false)]
    [InlineData("isIP('1.2.3.4.5')", false)]
    [InlineData("isIP('256.0.0.1')", false)]
    [InlineData("isIP('fd00::1')", true)]
    [InlineData("isIP('fd00:::1')", false)]
    [InlineData("isIP('1:2:3:4:5:6:7:8:9')", false)]
    [InlineData("isIP('::1.2.3.4')", true)]
    [InlineData("isIP(' 10.0.0.1')", false)]
    [InlineData("isIP('0x0a.0.0.1')", false)]
    [InlineData("isIP('fe80::1%eth0')", false)]
    [InlineData("isIP('[::1]')", false)]
    [InlineData("ip.isCanonical('fd00::1')", true)]
    [InlineData("ip.isCanonical('FD00::1')", false)]
    [InlineData("ip.isCanonical('fd00:0::1')", false)]
    [InlineData("ip.isCanonical('2001:db8:0:0:1:0:0:1')", false)]
    [InlineData("ip.isCanonical('2001:db8::1:0:0:1')", true)]
    [InlineData("ip.isCanonical('10.0.0.1')", true)]
    [InlineData("ip('10.0.0.1').family()", 4L)]
    [InlineData("ip('fd00::1').family()", 6L)]
    [InlineData("ip('127.0.0.1').isLoopback()", true)]
    [InlineData("ip('::1').isLoopback()", true)]
    [InlineData("ip('0.0.0.0').isUnspecified()", true)]
    [InlineData("ip('169.254.1.1').isLinkLocalUnicast()", true)]
    [InlineData("ip('fe80::1').isLinkLocalUnicast()", true)]
    [InlineData("ip('224.0.0.1').isLinkLocalMulticast()", true)]
    [InlineData("ip('ff02::1').isLinkLocalMulticast()", true)]
    [InlineData("ip('10.0.0.1').isGlobalUnicast()", true)]
    [InlineData("ip('255.255.255.255').isGlobalUnicast()", false)]
    [InlineData("ip('10.0.0.1') == ip('10.0.0.1')", true)]
    [InlineData("string(ip('fd00:0:0::1'))", "fd00::1")]
    // Kubernetes CIDR library
    [InlineData("isCIDR('10.0.0.0/8')", true)]
    [InlineData("isCIDR('10.0.0.1/8')", true)]
    [InlineData("isCIDR('10.0.0.0/08')", false)]
    [InlineData("isCIDR('10.0.0.0')", false)]
    [InlineData("isCIDR('10.0.0.0/33')", false)]
    [InlineData("isCIDR('fd00::/129')", false)]
    [InlineData("isCIDR('fd00::/64')", true)]
    [InlineData("string(cidr('10.0.0.1/8').masked())", "10.0.0.0/8")]
    [InlineData("string(cidr('10.0.0.1/8'))", "10.0.0.1/8")]
    [InlineData("string(cidr('10.0.0.1/8').ip())", "10.0.0.1")]
    [InlineData("cidr('10.0.0.0/8').prefixLength()", 8L)]
    [InlineData("cidr('10.0.0.0/8').containsIP('10.1.2.3')", true)]
    [InlineData("cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))", false)]
    [InlineData("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')", true)]
    [InlineData("cidr('10.0.0.0/16').containsCIDR('10.0.0.0/8')", false)]
    [InlineData("cidr('10.0.0.0/8').containsCIDR(cidr('10.0.0.0/8'))", true)]
    [InlineData("cidr('fd00::/48').containsIP('10.0.0.1')", false)]
    [InlineData("cidr('0.0.0.0/0').containsIP('255.255.255.255')", true)]
    [InlineData("cidr('10.0.0.0/8') == cidr('10.0.0.0/8')", true)]
    [InlineData("cidr('10.0.0.1/8') == cidr('10.0.0.0/8')", false)]
    [InlineData("cidr('fd00:10:244::/48').ip().family()", 6L)]
    public void KubernetesNetworkLibraries(string expression, object expected) => Assert.Equal(expected, Run(expression));

    [Theory]
    [InlineData("self.nope", "undefined field 'nope'")]
    [InlineData("nope", "undeclared reference to 'nope' (in container '')")]
    [InlineData("self.count + 'x'", "found no matching overload for '_+_' applied to '(int, string)'")]
    [InlineData("self.name.contains(1)", "found no matching overload for 'contains' applied to 'string.(int)'")]
    [InlineData("self.count == 'x'", "found no matching overload for '_==_' applied to '(int, string)'")]
    [InlineData("self.count.startsWith('1')", "found no matching overload for 'startsWith' applied to 'int.(string)'")]
    [InlineData("self.name.nosuch()", "undeclared reference to 'nosuch'")]
    [InlineData("self.tags.all(t, t)", "a predicate must be bool")]
    [InlineData("self.count.x", "type 'int' does not support field selection")]
    [InlineData("isCIDR(self.count)", "found no matching overload for 'isCIDR' applied to '(int)'")]
    [InlineData("self.name +", "mismatched input '<EOF>'")]
    [InlineData("self.(name)", "expecting IDENTIFIER")]
    [InlineData("self.namespace", "reserved identifier: namespace")]
    [InlineData("'unterminated", "unterminated string literal")]
    [InlineData("'\\q'", "invalid escape sequence")]
    [InlineData("9223372036854775808", "invalid int literal")]
    [InlineData("Msg{a: 1}", "message construction is not supported")]
    [InlineData("has(self)", "invalid argument to has() macro")]
    public void RefusesWhatCelGoRefuses(string expression, string message)
    {
        var types = new Dictionary<string, CelType>
        {
            ["self"] = CelType.ObjectOf("Object", new Dictionary<string, CelType>
            {
                ["name"] = CelType.String,
                ["count"] = CelType.Int,
                ["tags"] = CelType.ListOf(CelType.String),
            }),
        };
        var error = Assert.ThrowsAny<Exception>(() => CelProgram.Compile(expression, types));
        Assert.True(error is CelCheckException or CelSyntaxException, error.ToString());
        Assert.Contains(message, error.Message);
        Assert.StartsWith("ERROR: <input>:1:", error.Message);
    }

    [Fact]
    public void ObjectFieldsAbsentAreNoSuchKeyAndHasTellsPresence()
    {
        var type = CelType.ObjectOf("Object", new Dictionary<string, CelType> { ["a"] = CelType.Int, ["b"] = CelType.Int });
        var self = new CelObjectValue("Object", new Dictionary<string, object?> { ["a"] = 1L });
        var types = new Dictionary<string, CelType> { ["self"] = type };
        var values = new Dictionary<string, object?> { ["self"] = self };
        Assert.Equal(true, Run("has(self.a) && !has(self.b)", values, types));
        Assert.Equal("no such key: b", Assert.IsType<CelError>(Run("self.b == 1", values, types)).Message);
        Assert.Equal(true, Run("!has(self.b) || self.b == 1", values, types));
        Assert.Equal(true, Run("self.b == 1 || !has(self.b)", values, types));
    }

    [Fact]
    public void SetListsCompareAsSets()
    {
        var types = new Dictionary<string, CelType> { ["a"] = CelType.ListOf(CelType.Int), ["b"] = CelType.ListOf(CelType.Int) };
        var values = new Dictionary<string, object?>
        {
            ["a"] = new CelListValue([1L, 2L], CelListEquality.Set),
            ["b"] = new CelListValue([2L, 1L], CelListEquality.Set),
        };
        Assert.Equal(true, Run("a == b", values, types));
        Assert.Equal(false, Run("a == [1, 3]", values, types));
    }

    [Fact]
    public void ReportsTheIdentifiersAnExpressionReads()
    {
        var types = new Dictionary<string, CelType> { ["self"] = CelType.ListOf(CelType.Int), ["oldSelf"] = CelType.ListOf(CelType.Int) };
        Assert.Equal(["oldSelf", "self"], CelProgram.Compile("oldSelf.all(x, x in self)", types).Variables.Order());
        Assert.Equal(["self"], CelProgram.Compile("self.all(oldSelf, oldSelf > 0)", types).Variables.Order());
    }
}
