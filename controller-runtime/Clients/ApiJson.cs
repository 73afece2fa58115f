using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// The one JSON form of everything Trellis sends to and reads from the API server: KubernetesJson's conventions
/// (camelCase, nulls left out, enums as strings, its timestamp converters), with serializers generated at build time
/// for only the types Trellis uses. KubernetesJson itself roots a serializer for every Kubernetes model (about a
/// thousand), which a Native AOT binary would carry and expand at start; nothing here touches it.
/// </summary>
/// <remarks>
/// metadata.managedFields, server-side apply's bookkeeping, is neither read nor written: nobody who reconciles reads it, it is
/// often the larger part of a small object (more than half a NodeSubnet's JSON, and 43% of what decoding a list of them
/// allocates), and a write that leaves it out keeps the server's, as kube-apiserver does. Caches of thousands of objects never
/// hold it, and no write can send back a stale copy.
///
/// A program adds the generated resolvers of its own types (<see cref="Add"/>) before its first API call. A JIT-compiled
/// process (tests, trellis-local) falls back to reflection for a type no resolver knows; a Native AOT one refuses it, so
/// the end-to-end tests, which run the shipped binaries, find a type left out.
/// </remarks>
public static class ApiJson
{
    private static readonly Lock s_gate = new();
    private static readonly List<IJsonTypeInfoResolver> s_added = [];
    private static JsonSerializerOptions? s_options;

    /// <summary>The generated metadata of the Kubernetes types Trellis uses (tests hold it against reflection's).</summary>
    public static IJsonTypeInfoResolver KubernetesModels => KubernetesModelsJsonContext.Default;

    /// <summary>Adds generated metadata for more types, ahead of those already known; only before the first use.</summary>
    public static void Add(IJsonTypeInfoResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        lock (s_gate)
        {
            if (s_added.Contains(resolver))
                return;
            if (s_options is not null)
                throw new InvalidOperationException("ApiJson.Add must come before the first serialization: the options are fixed by then");
            s_added.Insert(0, resolver);
        }
    }

    /// <summary>The options, fixed at their first use.</summary>
    public static JsonSerializerOptions Options
    {
        get
        {
            if (s_options is { } ready)
                return ready;
            lock (s_gate)
            {
                if (s_options is not null)
                    return s_options;
                var options = new JsonSerializerOptions
                {
                    PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
                    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
                };
                options.Converters.Add(new KubernetesJson.Iso8601TimeSpanConverter());
                options.Converters.Add(new KubernetesJson.KubernetesDateTimeConverter());
                options.Converters.Add(new KubernetesJson.KubernetesDateTimeOffsetConverter());
                foreach (var resolver in s_added)
                    options.TypeInfoResolverChain.Add(resolver);
                options.TypeInfoResolverChain.Add(KubernetesModelsJsonContext.Default);
                if (JsonSerializer.IsReflectionEnabledByDefault)
                    options.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
                options.TypeInfoResolver = options.TypeInfoResolver!.WithAddedModifier(LeaveOutManagedFields);
                options.MakeReadOnly();
                return s_options = options;
            }
        }
    }

    /// <summary>Unknown to the contract, the property is skipped unread when it arrives and never written.</summary>
    private static void LeaveOutManagedFields(JsonTypeInfo info)
    {
        if (info.Type != typeof(V1ObjectMeta)) return;
        for (int i = info.Properties.Count - 1; i >= 0; i--)
            if (info.Properties[i].Name == "managedFields") info.Properties.RemoveAt(i);
    }

    public static JsonTypeInfo<T> TypeOf<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, TypeOf<T>());

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize(json, TypeOf<T>()) ?? throw new JsonException($"JSON null where a {typeof(T).Name} was expected");

    public static T Deserialize<T>(JsonElement element) =>
        element.Deserialize(TypeOf<T>()) ?? throw new JsonException($"JSON null where a {typeof(T).Name} was expected");

    public static async Task<T> DeserializeAsync<T>(Stream json, CancellationToken cancellationToken) =>
        await JsonSerializer.DeserializeAsync(json, TypeOf<T>(), cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException($"JSON null where a {typeof(T).Name} was expected");

    /// <summary>A deep copy, through the JSON form.</summary>
    public static T Clone<T>(T value) => Deserialize<T>(Serialize(value));
}

/// <summary>
/// The Kubernetes types the operator and the agent exchange with the API server, and what merge patches built as
/// dictionaries hold. Their converters (IntOrString, quantities) come from attributes on the types.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(V1Node))]
[JsonSerializable(typeof(V1NodeList))]
[JsonSerializable(typeof(V1Pod))]
[JsonSerializable(typeof(V1PodList))]
[JsonSerializable(typeof(V1Namespace))]
[JsonSerializable(typeof(V1NamespaceList))]
[JsonSerializable(typeof(V1NetworkPolicy))]
[JsonSerializable(typeof(V1NetworkPolicyList))]
[JsonSerializable(typeof(V1Lease))]
[JsonSerializable(typeof(Corev1Event))]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(V1DeleteOptions))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(DateTime))]
internal sealed partial class KubernetesModelsJsonContext : JsonSerializerContext;
