"""The spec model: the desired state, in a portable vocabulary.

Every class here is a frozen dataclass so that specs, diffs and saved plans
are deterministic and hashable. Each object that came from a YAML file keeps
its ``Location``; objects made by a target from live state have none.

The same classes describe live state: a target reads what is live and
expresses it in this vocabulary (``LiveLoadBalancer.spec``), so the diff
compares like with like.

Field names are the contract between the spec loader, the diff, every target
and the JSON Schema; add fields freely, rename none without updating all of
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Tags = tuple[tuple[str, str], ...]
"""Tags as sorted (key, value) pairs, so they compare and hash."""


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Protocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"
    HTTP = "http"
    HTTPS = "https"
    TLS = "tls"  # TLS ended at the load balancer, TCP to servers (aws-elbv2)


class Scheduler(StrEnum):
    """The portable scheduler vocabulary; targets map it to their own terms."""

    ROUND_ROBIN = "round_robin"
    WEIGHTED_ROUND_ROBIN = "weighted_round_robin"
    LEAST_CONNECTIONS = "least_connections"
    SOURCE_HASH = "source_hash"


class Membership(StrEnum):
    """Who decides which servers sit in a server group."""

    STATIC = "static"  # the spec lists them
    DISCOVERED = "discovered"  # running ECS instances with given tags
    EXTERNAL = "external"  # someone else (register calls, auto scaling)


class ServerType(StrEnum):
    ECS = "ecs"
    ENI = "eni"
    ECI = "eci"
    IP = "ip"


@dataclass(frozen=True)
class Server:
    """One backend server of a server group.

    Cloud servers are named by ``id`` (``i-...``, ``eni-...``, ``eci-...``);
    on-prem servers and IP-type servers by ``address``. Identity is
    ``key``: (id or address, port).
    """

    port: int
    id: str | None = None
    address: str | None = None
    weight: int = 100
    type: ServerType = ServerType.ECS
    description: str = ""
    location: Location | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id or self.address or "", self.port)

    @property
    def label(self) -> str:
        return f"{self.key[0]}:{self.port}"


@dataclass(frozen=True)
class Discovery:
    """How a ``discovered`` group finds its servers: ECS instances by tag."""

    instance_tags: Tags
    port: int
    weight: int = 100
    vpc_id: str | None = None


@dataclass(frozen=True)
class ServerGroup:
    name: str
    membership: Membership = Membership.STATIC
    servers: tuple[Server, ...] = ()
    discover: Discovery | None = None
    tags: Tags = ()
    location: Location | None = field(default=None, compare=False, repr=False)

    def servers_by_key(self) -> dict[tuple[str, int], Server]:
        return {server.key: server for server in self.servers}


@dataclass(frozen=True)
class HealthCheck:
    """A health check in portable terms; durations in whole seconds.

    ``type`` is ``tcp`` or ``http`` for TCP listeners, ``udp`` for UDP ones
    and ``http`` for HTTP and HTTPS listeners.
    """

    enabled: bool = True
    type: str = "tcp"
    interval: int = 2
    timeout: int = 5
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3
    port: int | None = None
    path: str | None = None
    domain: str | None = None
    http_codes: tuple[str, ...] = ("http_2xx",)
    method: str | None = None
    udp_request: str | None = None
    udp_expect: str | None = None


@dataclass(frozen=True)
class StickySession:
    """HTTP(S) sticky sessions: ``insert`` a cookie, or follow the ``server``'s."""

    type: str = "insert"
    cookie: str | None = None
    cookie_timeout: int | None = None


@dataclass(frozen=True)
class XForwardedFor:
    """Which X-Forwarded-* headers an HTTP(S) listener adds."""

    enabled: bool = True
    slb_ip: bool = False
    slb_id: bool = False
    proto: bool = False
    slb_port: bool = False
    client_src_port: bool = False


@dataclass(frozen=True)
class AclBinding:
    """An access control list applied to a listener, by the ACL's spec name."""

    acl: str
    type: str = "white"


@dataclass(frozen=True)
class ForwardingRule:
    """An HTTP(S) forwarding rule: requests for domain/url go to a group."""

    name: str
    server_group: str
    domain: str | None = None
    url: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Listener:
    """A listener; identity is ``key``: (protocol, port).

    Fields that apply to some protocols only are ``None`` (or their default)
    on the others; the validator rejects a knob set on a protocol that does
    not take it.
    """

    protocol: Protocol
    port: int
    server_group: str | None = None
    backend_port: int | None = None
    scheduler: str = Scheduler.WEIGHTED_ROUND_ROBIN
    bandwidth: int = -1
    description: str | None = None
    health_check: HealthCheck = HealthCheck()
    acl: AclBinding | None = None
    # TCP
    persistence_timeout: int = 0
    established_timeout: int | None = None
    connection_drain: int | None = None  # seconds; None means off
    # TCP and UDP
    proxy_protocol: bool = False
    # HTTP and HTTPS
    sticky_session: StickySession | None = None
    x_forwarded_for: XForwardedFor | None = None
    gzip: bool | None = None
    idle_timeout: int | None = None
    request_timeout: int | None = None
    redirect_to_port: int | None = None  # HTTP only: redirect to this HTTPS port
    rules: tuple[ForwardingRule, ...] = ()
    # HTTPS
    certificate: str | None = None  # spec name of a server certificate
    ca_certificate: str | None = None  # spec name of a CA certificate (mutual TLS)
    http2: bool | None = None
    tls_cipher_policy: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (str(self.protocol), self.port)

    @property
    def label(self) -> str:
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True)
class LoadBalancer:
    """One load balancer, on the target named by ``target``."""

    name: str
    target: str
    address_type: str = "internet"
    address_ip_version: str = "ipv4"
    vswitch_id: str | None = None
    vpc_id: str | None = None
    instance_charge_type: str = "PayByCLCU"
    spec: str | None = None
    internet_charge_type: str = "paybytraffic"
    bandwidth: int | None = None
    deletion_protection: bool = False
    modification_protection: bool = False
    modification_protection_reason: str | None = None
    resource_group_id: str | None = None
    master_zone_id: str | None = None
    slave_zone_id: str | None = None
    # Other clouds' load balancer settings (aws-elbv2): the kind, application
    # or network (None: the target infers it), and where it sits. Targets
    # without them leave them unset.
    type: str | None = None
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    tags: Tags = ()
    server_groups: tuple[ServerGroup, ...] = ()
    listeners: tuple[Listener, ...] = ()
    adopt: bool = False  # take over an existing, unowned load balancer of this name
    location: Location | None = field(default=None, compare=False, repr=False)

    def server_group(self, name: str) -> ServerGroup | None:
        return next((g for g in self.server_groups if g.name == name), None)


@dataclass(frozen=True)
class AclEntry:
    cidr: str
    comment: str = ""


@dataclass(frozen=True)
class Acl:
    """A regional access control list on a target."""

    name: str
    target: str
    entries: tuple[AclEntry, ...] = ()
    address_ip_version: str = "ipv4"
    tags: Tags = ()
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Certificate:
    """A server or CA certificate, uploaded from PEM files.

    ``certificate_pem`` is public; the private key is only ever read from
    ``private_key_file`` at apply time and never kept in the model, a plan
    or a log.
    """

    name: str
    target: str
    kind: str = "server"  # server | ca
    certificate_file: str = ""
    private_key_file: str | None = None
    certificate_pem: str = field(default="", repr=False)
    fingerprint: str = ""  # SHA-1 of the DER, lower-case hex with colons, as SLB
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TargetSpec:
    """A target: a kind of load balancer and where to reach it.

    ``options`` holds the settings particular to the target type (for
    nginx, ``config_path``; for HAProxy, ``runtime_socket``), as sorted
    (key, value) pairs; each target package parses its own.
    """

    name: str
    type: str
    region: str | None = None
    endpoint: str | None = None  # a URL, or "local" for the embedded emulator
    profile: str | None = None
    lock: str | None = None  # "file" (default), file:///dir or redis://...
    options: tuple[tuple[str, Any], ...] = ()
    location: Location | None = field(default=None, compare=False, repr=False)

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class Spec:
    """A whole spec: every file merged."""

    targets: tuple[TargetSpec, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    acls: tuple[Acl, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    sources: tuple[str, ...] = ()  # the files it was loaded from
    documents: tuple[dict[str, Any], ...] = field(
        default=(), compare=False, repr=False
    )  # the raw documents after ${VAR} substitution, for saved plans
    document_sources: tuple[str, ...] = field(
        default=(), compare=False, repr=False
    )  # the file each of ``documents`` came from, in the same order

    def named_documents(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """(source, document) pairs, as ``spec.load.load_spec_documents`` takes."""
        return tuple(zip(self.document_sources, self.documents, strict=True))

    def target(self, name: str) -> TargetSpec | None:
        return next((t for t in self.targets if t.name == name), None)

    def load_balancers_on(self, target: str) -> tuple[LoadBalancer, ...]:
        return tuple(lb for lb in self.load_balancers if lb.target == target)

    def acls_on(self, target: str) -> tuple[Acl, ...]:
        return tuple(acl for acl in self.acls if acl.target == target)

    def certificates_on(self, target: str) -> tuple[Certificate, ...]:
        return tuple(c for c in self.certificates if c.target == target)
