using Trellis.Crds.Yaml;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class YamlDocumentsTests
{
    [Fact]
    public void Plain_scalars_are_typed_and_quoted_ones_stay_strings()
    {
        var json = YamlDocuments.ParseSingle("""
            kind: PodNetwork
            spec:
              cidrs: ["10.244.0.0/16"]
              blockSize: {ipv4: 24}
              natOutgoing: false
              quoted: "24"
              empty: ~
            """, "inline");
        Assert.Equal("""{"kind":"PodNetwork","spec":{"cidrs":["10.244.0.0/16"],"blockSize":{"ipv4":24},"natOutgoing":false,"quoted":"24","empty":null}}""", json.ToJsonString());
    }

    [Fact]
    public void Several_documents_and_errors_that_name_the_source()
    {
        var documents = YamlDocuments.Parse(new StringReader("a: 1\n---\nb: 2\n---\n"), "inline");
        Assert.Equal(2, documents.Count);
        Assert.Contains("manifest.yaml: expected one document, found 2",
            Assert.Throws<InvalidDataException>(() => YamlDocuments.ParseSingle("a: 1\n---\nb: 2\n", "manifest.yaml")).Message);
        Assert.Contains("broken.yaml: not valid YAML",
            Assert.Throws<InvalidDataException>(() => YamlDocuments.ParseSingle("a: 1\na: 2\n", "broken.yaml")).Message);
    }
}
