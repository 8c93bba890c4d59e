/* Options:
Version: 0.1.0
Tip: To override a DTO option, remove "//" prefix before updating
BaseUrl: http://localhost:8080

//AddResponseStatus: False
//AddDescriptionAsComments: True
//InitializeCollections: False
//IncludeTypes: 
//ExcludeTypes: 
*/

import Foundation
import ServiceStack

/**
* Creates a new login with the specified email address and password. Note: Any given email address can only exist once in the entire Evo Voice system.
*/
// @Api(Description="Creates a new login with the specified email address and password. Note: Any given email address can only exist once in the entire Evo Voice system.")
public class NewUser : IPost, Codable
{
    /**
    * The account ID you want to create this user under
    */
    // @ApiMember(Description="The account ID you want to create this user under")
    public var accountId:String?
    /**
    * The email address of the new user
    */
    // @ApiMember(Description="The email address of the new user", IsRequired=true)
    public var emailAddress:String?
    /**
    * The user's first name
    */
    // @ApiMember(Description="The user's first name")
    public var firstName:String?
    /**
    * The user's last name
    */
    // @ApiMember(Description="The user's last name")
    public var lastName:String?
    /**
    * The password for the new user
    */
    // @ApiMember(Description="The password for the new user", IsRequired=true)
    public var password:String?

    required public init(){}
}

public class UserInfo : Codable
{
    public var id:String?
    public var isAuthenticated:Bool?
    public var firstName:String?
    public var lastName:String?
    public var name:String?
    public var avatarUrl:String?
    public var emailAddress:String?
    public var roles:[String]?
    public var accountIds:[String]?
    public var accountNames:[String]?
    public var managerAccess:UserManagerAccess?
    public var dashboardPermissions:[DashboardPermissions]?

    required public init(){}
}

/**
* Update the specified login
*/
// @Api(Description="Update the specified login")
public class PatchUser : IPatch, Codable
{
    /**
    * The account IDs that this user has access to
    */
    // @ApiMember(Description="The account IDs that this user has access to")
    public var accountIds:[String]?
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    public var userId:String?
    /**
    * The user's first name
    */
    // @ApiMember(Description="The user's first name")
    public var firstName:String?
    /**
    * The user's last name
    */
    // @ApiMember(Description="The user's last name")
    public var lastName:String?
    /**
    * The new password for the user (leave null to not change)
    */
    // @ApiMember(Description="The new password for the user (leave null to not change)")
    public var newPassword:String?
    /**
    * The roles to associate with the login. Can only specify if system admin
    */
    // @ApiMember(Description="The roles to associate with the login. Can only specify if system admin")
    public var roles:[String]?

    required public init(){}
}

/**
* Get the specified login. Anybody may read their own; administrators read the users they manage.
*/
// @Api(Description="Get the specified login. Anybody may read their own; administrators read the users they manage.")
public class GetUser : IGet, Codable
{
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    public var userId:String?

    required public init(){}
}

/**
* List the logins the caller manages, filtered and paged
*/
// @Api(Description="List the logins the caller manages, filtered and paged")
public class ListUsers : IGet, Codable
{
    /**
    * Only users whose email address contains this text
    */
    // @ApiMember(Description="Only users whose email address contains this text")
    public var email:String?
    /**
    * Only users whose first or last name contains this text
    */
    // @ApiMember(Description="Only users whose first or last name contains this text")
    public var name:String?
    /**
    * Only users that belong to this account
    */
    // @ApiMember(Description="Only users that belong to this account")
    public var accountId:String?
    /**
    * Only users that hold this role
    */
    // @ApiMember(Description="Only users that hold this role")
    public var role:String?
    /**
    * How many matching users to skip
    */
    // @ApiMember(Description="How many matching users to skip")
    public var skip:Int32?
    /**
    * How many users to return (default 50, at most 1000)
    */
    // @ApiMember(Description="How many users to return (default 50, at most 1000)")
    public var take:Int32?
    /**
    * Start after this cursor (the next of the previous page): pages at any depth cost the same; skip then counts from there
    */
    // @ApiMember(Description="Start after this cursor (the next of the previous page): pages at any depth cost the same; skip then counts from there")
    public var after:String?
    /**
    * Count every match for total (a filtered list otherwise stops counting past 1000 matches)
    */
    // @ApiMember(Description="Count every match for total (a filtered list otherwise stops counting past 1000 matches)")
    public var exactTotal:Bool?

    required public init(){}
}

public class ListUsersResponse : Codable
{
    public var total:Int32?
    public var skip:Int32?
    public var results:[UserInfo]?
    public var responseStatus:ResponseStatus?
    public var next:String?
    public var totalKind:String?

    required public init(){}
}

/**
* Delete the specified login
*/
// @Api(Description="Delete the specified login")
public class DeleteUser : IDelete, Codable
{
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    public var userId:String?

    required public init(){}
}

public class DeleteUserResponse : Codable
{
    public var id:String?
    public var responseStatus:ResponseStatus?

    required public init(){}
}

/**
* Create users in bulk with their roles, organizations and stored password hashes (up to 1000 a call, one transaction); a user that exists with the same data is left as it is, every other row that cannot be created is refused with its number and the reason
*/
// @Api(Description="Create users in bulk with their roles, organizations and stored password hashes (up to 1000 a call, one transaction); a user that exists with the same data is left as it is, every other row that cannot be created is refused with its number and the reason")
public class ImportUsers : IPost, Codable
{
    /**
    * The users to create, at most 1000 a call, committed together
    */
    // @ApiMember(Description="The users to create, at most 1000 a call, committed together")
    public var users:[UserRecord]?

    required public init(){}
}

public class UserRecord : Codable
{
    /**
    * The user's email address (the key: unique in any letter case)
    */
    // @ApiMember(Description="The user's email address (the key: unique in any letter case)")
    public var emailAddress:String?
    /**
    * The user's first name
    */
    // @ApiMember(Description="The user's first name")
    public var firstName:String?
    /**
    * The user's last name
    */
    // @ApiMember(Description="The user's last name")
    public var lastName:String?
    /**
    * The user's phone number
    */
    // @ApiMember(Description="The user's phone number")
    public var phoneNumber:String?
    /**
    * The user's roles
    */
    // @ApiMember(Description="The user's roles")
    public var roles:[String]?
    /**
    * The organizations the user belongs to (the first is the primary one)
    */
    // @ApiMember(Description="The organizations the user belongs to (the first is the primary one)")
    public var accountIds:[String]?
    /**
    * The stored password hash: argon2id/argon2i PHC, bcrypt $2a$/$2b$/$2y$, PBKDF2 PHC, ASP.NET Identity v2/v3; none: the user is created disabled until a password is set
    */
    // @ApiMember(Description="The stored password hash: argon2id/argon2i PHC, bcrypt $2a$/$2b$/$2y$, PBKDF2 PHC, ASP.NET Identity v2/v3; none: the user is created disabled until a password is set")
    public var passwordHash:String?
    /**
    * Import: the row's number in its file, named in its refusal
    */
    // @ApiMember(Description="Import: the row's number in its file, named in its refusal")
    public var row:Int64?

    required public init(){}
}

public class ImportUsersResponse : Codable
{
    public var created:Int32?
    public var unchanged:Int32?
    public var refused:Int32?
    public var refusals:[ImportRefusal]?
    public var responseStatus:ResponseStatus?

    required public init(){}
}

public class ImportRefusal : Codable
{
    public var row:Int64?
    public var emailAddress:String?
    public var fieldName:String?
    public var errorCode:String?
    public var message:String?

    required public init(){}
}

/**
* Every user, a page at a time in the order of their ids, in the shape ImportUsers takes; password hashes only for Admin and only when asked
*/
// @Api(Description="Every user, a page at a time in the order of their ids, in the shape ImportUsers takes; password hashes only for Admin and only when asked")
public class ExportUsers : IGet, Codable
{
    /**
    * The cursor of the previous page (its next); none: from the first user
    */
    // @ApiMember(Description="The cursor of the previous page (its next); none: from the first user")
    public var after:String?
    /**
    * How many users (default 500, at most 1000)
    */
    // @ApiMember(Description="How many users (default 500, at most 1000)")
    public var take:Int32?
    /**
    * Include each user's stored password hash (Admin only)
    */
    // @ApiMember(Description="Include each user's stored password hash (Admin only)")
    public var includePasswordHashes:Bool?

    required public init(){}
}

public class ExportUsersResponse : Codable
{
    public var results:[UserRecord]?
    public var next:String?
    public var responseStatus:ResponseStatus?

    required public init(){}
}

public class UpdateBusinessUser : IPut, Codable
{
    /**
    * ID of the user whose data is to be updated.
    */
    // @ApiMember(Description="ID of the user whose data is to be updated.", IsRequired=true)
    public var userId:Int64?
    /**
    * The user's first name.
    */
    // @ApiMember(Description="The user's first name.", IsRequired=true)
    public var firstName:String?
    /**
    * The user's last name.
    */
    // @ApiMember(Description="The user's last name.", IsRequired=true)
    public var lastName:String?
    /**
    * The user's email address.
    */
    // @ApiMember(Description="The user's email address.", IsRequired=true)
    public var email:String?
    /**
    * The user's phone number.
    */
    // @ApiMember(Description="The user's phone number.")
    public var phoneNumber:String?
    /**
    * The user's roles.
    */
    // @ApiMember(Description="The user's roles.", IsRequired=true)
    public var roles:[String]?
    /**
    * Optional association to a Viviot user.
    */
    // @ApiMember(Description="Optional association to a Viviot user.")
    public var viviotId:String?
    /**
    * Api version
    */
    // @ApiMember(Description="Api version")
    public var version:Int32?

    required public init(){}
}

public class BusinessUserProfileDataResponse : Codable
{
    public var data:BusinessUserProfileDataView?
    public var responseStatus:ResponseStatus?

    required public init(){}
}

public class BusinessUserProfileDataView : Codable
{
    public var id:Int64?
    public var activationStatus:ActivationStatus?
    public var userName:String?
    public var firstName:String?
    public var lastName:String?
    public var email:String?
    public var temporaryEmail:String?
    public var emailConfirmed:Bool?
    public var phoneNumber:String?
    public var temporaryPhoneNumber:String?
    public var phoneNumberConfirmed:Bool?
    public var roles:[String]?
    public var organizationId:String?
    public var businessOrganizations:[OrganizationBasicView]?
    public var viviotId:String?
    public var imageContent:String?
    public var imageUrl:String?

    required public init(){}
}

public class OrganizationBasicView : Codable
{
    public var id:String?
    public var name:String?
    public var type:OrganizationType?
    // @DataMember(Name="organizations")
    public var subOrganizations:[OrganizationBasicView]?

    required public init(){}

    private enum CodingKeys : String, CodingKey {
        case id
        case name
        case type
        case subOrganizations = "organizations"
    }
}

/**
* Create an organization, optionally under a parent organization
*/
// @Api(Description="Create an organization, optionally under a parent organization")
public class CreateOrganization : IPost, Codable
{
    /**
    * The organization's name
    */
    // @ApiMember(Description="The organization's name", IsRequired=true)
    public var name:String?
    /**
    * The kind of organization
    */
    // @ApiMember(Description="The kind of organization")
    public var type:OrganizationType?
    /**
    * The parent organization, if any
    */
    // @ApiMember(Description="The parent organization, if any")
    public var parentId:String?

    required public init(){}
}

public class Organization : Codable
{
    public var id:String?
    public var name:String?
    public var type:OrganizationType?
    public var parentId:String?
    public var memberCount:Int32?

    required public init(){}
}

/**
* Get the specified organization
*/
// @Api(Description="Get the specified organization")
public class GetOrganization : IGet, Codable
{
    /**
    * The ID of the organization
    */
    // @ApiMember(Description="The ID of the organization")
    public var id:String?

    required public init(){}
}

/**
* List the organizations the caller can see
*/
// @Api(Description="List the organizations the caller can see")
public class ListOrganizations : IGet, Codable
{
    /**
    * Only the direct children of this organization
    */
    // @ApiMember(Description="Only the direct children of this organization")
    public var parentId:String?
    /**
    * How many organizations to skip
    */
    // @ApiMember(Description="How many organizations to skip")
    public var skip:Int32?
    /**
    * How many to return (default 50, at most 1000)
    */
    // @ApiMember(Description="How many to return (default 50, at most 1000)")
    public var take:Int32?
    /**
    * Start after this cursor (the next of the previous page); skip then counts from there
    */
    // @ApiMember(Description="Start after this cursor (the next of the previous page); skip then counts from there")
    public var after:String?

    required public init(){}
}

public class ListOrganizationsResponse : Codable
{
    public var total:Int32?
    public var skip:Int32?
    public var results:[Organization]?
    public var responseStatus:ResponseStatus?
    public var next:String?

    required public init(){}
}

/**
* Make a user a member of an organization
*/
// @Api(Description="Make a user a member of an organization")
public class AddOrganizationMember : IPost, Codable
{
    /**
    * The ID of the organization
    */
    // @ApiMember(Description="The ID of the organization")
    public var organizationId:String?
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    public var userId:String?

    required public init(){}
}

public class OrganizationMemberResponse : Codable
{
    public var organizationId:String?
    public var userId:String?
    public var responseStatus:ResponseStatus?

    required public init(){}
}

/**
* Remove a user from an organization
*/
// @Api(Description="Remove a user from an organization")
public class RemoveOrganizationMember : IDelete, Codable
{
    /**
    * The ID of the organization
    */
    // @ApiMember(Description="The ID of the organization")
    public var organizationId:String?
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    public var userId:String?

    required public init(){}
}

/**
* Sign in with a user name and password
*/
// @Api(Description="Sign in with a user name and password")
public class Authenticate : IPost, Codable
{
    /**
    * The auth provider: credentials
    */
    // @ApiMember(Description="The auth provider: credentials")
    public var provider:String?
    /**
    * The email address of the user
    */
    // @ApiMember(Description="The email address of the user", IsRequired=true)
    public var userName:String?
    /**
    * The user's password
    */
    // @ApiMember(Description="The user's password", IsRequired=true)
    public var password:String?
    /**
    * Keep the session after the browser closes
    */
    // @ApiMember(Description="Keep the session after the browser closes")
    public var rememberMe:Bool?

    required public init(){}
}

public class AuthenticateResponse : Codable
{
    public var userId:String?
    public var sessionId:String?
    public var userName:String?
    public var displayName:String?
    public var referrerUrl:String?
    public var bearerToken:String?
    public var refreshToken:String?
    public var roles:[String]?
    public var permissions:[String]?
    public var responseStatus:ResponseStatus?

    required public init(){}
}

/**
* Trade a refresh token for a new bearer token and the next refresh token; each refresh token is used once
*/
// @Api(Description="Trade a refresh token for a new bearer token and the next refresh token; each refresh token is used once")
public class GetAccessToken : IPost, Codable
{
    /**
    * The refresh token from Authenticate
    */
    // @ApiMember(Description="The refresh token from Authenticate", IsRequired=true)
    public var refreshToken:String?

    required public init(){}
}

public class GetAccessTokenResponse : Codable
{
    public var accessToken:String?
    public var responseStatus:ResponseStatus?
    public var refreshToken:String?

    required public init(){}
}

/**
* Sign out: revoke the refresh token and every token refreshed from the same sign-in
*/
// @Api(Description="Sign out: revoke the refresh token and every token refreshed from the same sign-in")
public class Logout : IPost, Codable
{
    /**
    * The refresh token whose sign-in ends (the ss-reftok cookie when absent)
    */
    // @ApiMember(Description="The refresh token whose sign-in ends (the ss-reftok cookie when absent)")
    public var refreshToken:String?

    required public init(){}
}

public enum UserManagerAccess : String, Codable
{
    case ReadOnly
    case ReadWrite
    case ReadWriteDelete
}

public enum DashboardPermissions : String, Codable
{
    case ViewFiles
    case ViewNotifications
    case ViewSessions
    case ViewEndpoints
    case ViewReports
    case ViewCustomers
    case ViewFlows
    case ViewCallCenter
}

public enum ActivationStatus : Int, Codable
{
    case Unconfirmed = 0
    case Temporary = 10
    case OwnershipConfirmed = 20
    case IdentityConfirmed = 30
}

public enum OrganizationType : Int, Codable
{
    case Unknown = 0
    case Admin = 10
    case Tenant = 20
    case Location = 30
}
