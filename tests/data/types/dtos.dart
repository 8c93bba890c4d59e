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

import 'dart:typed_data';
import 'package:servicestack/servicestack.dart';

/**
* Creates a new login with the specified email address and password. Note: Any given email address can only exist once in the entire Evo Voice system.
*/
// @Route("/users", "POST")
// @Api(Description="Creates a new login with the specified email address and password. Note: Any given email address can only exist once in the entire Evo Voice system.")
class NewUser implements IReturn<UserInfo>, IPost, IConvertible
{
    /**
    * The account ID you want to create this user under
    */
    // @ApiMember(Description="The account ID you want to create this user under")
    String? accountId;

    /**
    * The email address of the new user
    */
    // @ApiMember(Description="The email address of the new user", IsRequired=true)
    String? emailAddress;

    /**
    * The user's first name
    */
    // @ApiMember(Description="The user's first name")
    String? firstName;

    /**
    * The user's last name
    */
    // @ApiMember(Description="The user's last name")
    String? lastName;

    /**
    * The password for the new user
    */
    // @ApiMember(Description="The password for the new user", IsRequired=true)
    String? password;

    NewUser({this.accountId,this.emailAddress,this.firstName,this.lastName,this.password});
    NewUser.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        accountId = json['accountId'];
        emailAddress = json['emailAddress'];
        firstName = json['firstName'];
        lastName = json['lastName'];
        password = json['password'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'accountId': accountId,
        'emailAddress': emailAddress,
        'firstName': firstName,
        'lastName': lastName,
        'password': password
    };

    createResponse() => UserInfo();
    getResponseTypeName() => "UserInfo";
    getTypeName() => "NewUser";
    TypeContext? context = _ctx;
}

class UserInfo implements IConvertible
{
    String? id;

    bool? isAuthenticated;

    String? firstName;

    String? lastName;

    String? name;

    String? avatarUrl;

    String? emailAddress;

    List<String>? roles;

    List<String>? accountIds;

    List<String>? accountNames;

    UserManagerAccess? managerAccess;

    List<DashboardPermissions>? dashboardPermissions;

    UserInfo({this.id,this.isAuthenticated,this.firstName,this.lastName,this.name,this.avatarUrl,this.emailAddress,this.roles,this.accountIds,this.accountNames,this.managerAccess,this.dashboardPermissions});
    UserInfo.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        id = json['id'];
        isAuthenticated = json['isAuthenticated'];
        firstName = json['firstName'];
        lastName = json['lastName'];
        name = json['name'];
        avatarUrl = json['avatarUrl'];
        emailAddress = json['emailAddress'];
        roles = JsonConverters.fromJson(json['roles'],'List<String>',context!);
        accountIds = JsonConverters.fromJson(json['accountIds'],'List<String>',context!);
        accountNames = JsonConverters.fromJson(json['accountNames'],'List<String>',context!);
        managerAccess = JsonConverters.fromJson(json['managerAccess'],'UserManagerAccess',context!);
        dashboardPermissions = JsonConverters.fromJson(json['dashboardPermissions'],'List<DashboardPermissions>',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'id': id,
        'isAuthenticated': isAuthenticated,
        'firstName': firstName,
        'lastName': lastName,
        'name': name,
        'avatarUrl': avatarUrl,
        'emailAddress': emailAddress,
        'roles': JsonConverters.toJson(roles,'List<String>',context!),
        'accountIds': JsonConverters.toJson(accountIds,'List<String>',context!),
        'accountNames': JsonConverters.toJson(accountNames,'List<String>',context!),
        'managerAccess': JsonConverters.toJson(managerAccess,'UserManagerAccess',context!),
        'dashboardPermissions': JsonConverters.toJson(dashboardPermissions,'List<DashboardPermissions>',context!)
    };

    getTypeName() => "UserInfo";
    TypeContext? context = _ctx;
}

enum UserManagerAccess
{
    ReadOnly,
    ReadWrite,
    ReadWriteDelete,
}

enum DashboardPermissions
{
    ViewFiles,
    ViewNotifications,
    ViewSessions,
    ViewEndpoints,
    ViewReports,
    ViewCustomers,
    ViewFlows,
    ViewCallCenter,
}

/**
* Update the specified login
*/
// @Route("/users/{userId}", "PATCH")
// @Api(Description="Update the specified login")
class PatchUser implements IReturn<UserInfo>, IPatch, IConvertible
{
    /**
    * The account IDs that this user has access to
    */
    // @ApiMember(Description="The account IDs that this user has access to")
    List<String>? accountIds;

    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    String? userId;

    /**
    * The user's first name
    */
    // @ApiMember(Description="The user's first name")
    String? firstName;

    /**
    * The user's last name
    */
    // @ApiMember(Description="The user's last name")
    String? lastName;

    /**
    * The new password for the user (leave null to not change)
    */
    // @ApiMember(Description="The new password for the user (leave null to not change)")
    String? newPassword;

    /**
    * The roles to associate with the login. Can only specify if system admin
    */
    // @ApiMember(Description="The roles to associate with the login. Can only specify if system admin")
    List<String>? roles;

    PatchUser({this.accountIds,this.userId,this.firstName,this.lastName,this.newPassword,this.roles});
    PatchUser.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        accountIds = JsonConverters.fromJson(json['accountIds'],'List<String>',context!);
        userId = json['userId'];
        firstName = json['firstName'];
        lastName = json['lastName'];
        newPassword = json['newPassword'];
        roles = JsonConverters.fromJson(json['roles'],'List<String>',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'accountIds': JsonConverters.toJson(accountIds,'List<String>',context!),
        'userId': userId,
        'firstName': firstName,
        'lastName': lastName,
        'newPassword': newPassword,
        'roles': JsonConverters.toJson(roles,'List<String>',context!)
    };

    createResponse() => UserInfo();
    getResponseTypeName() => "UserInfo";
    getTypeName() => "PatchUser";
    TypeContext? context = _ctx;
}

/**
* Get the specified login. Anybody may read their own; administrators read the users they manage.
*/
// @Route("/users/{userId}", "GET")
// @Api(Description="Get the specified login. Anybody may read their own; administrators read the users they manage.")
class GetUser implements IReturn<UserInfo>, IGet, IConvertible
{
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    String? userId;

    GetUser({this.userId});
    GetUser.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        userId = json['userId'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'userId': userId
    };

    createResponse() => UserInfo();
    getResponseTypeName() => "UserInfo";
    getTypeName() => "GetUser";
    TypeContext? context = _ctx;
}

/**
* List the logins the caller manages, filtered and paged
*/
// @Route("/users", "GET")
// @Api(Description="List the logins the caller manages, filtered and paged")
class ListUsers implements IReturn<ListUsersResponse>, IGet, IConvertible
{
    /**
    * Only users whose email address contains this text
    */
    // @ApiMember(Description="Only users whose email address contains this text")
    String? email;

    /**
    * Only users whose first or last name contains this text
    */
    // @ApiMember(Description="Only users whose first or last name contains this text")
    String? name;

    /**
    * Only users that belong to this account
    */
    // @ApiMember(Description="Only users that belong to this account")
    String? accountId;

    /**
    * Only users that hold this role
    */
    // @ApiMember(Description="Only users that hold this role")
    String? role;

    /**
    * How many matching users to skip
    */
    // @ApiMember(Description="How many matching users to skip")
    int? skip;

    /**
    * How many users to return (default 50, at most 1000)
    */
    // @ApiMember(Description="How many users to return (default 50, at most 1000)")
    int? take;

    /**
    * Start after this cursor (the next of the previous page): pages at any depth cost the same; skip then counts from there
    */
    // @ApiMember(Description="Start after this cursor (the next of the previous page): pages at any depth cost the same; skip then counts from there")
    String? after;

    /**
    * Count every match for total (a filtered list otherwise stops counting past 1000 matches)
    */
    // @ApiMember(Description="Count every match for total (a filtered list otherwise stops counting past 1000 matches)")
    bool? exactTotal;

    ListUsers({this.email,this.name,this.accountId,this.role,this.skip,this.take,this.after,this.exactTotal});
    ListUsers.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        email = json['email'];
        name = json['name'];
        accountId = json['accountId'];
        role = json['role'];
        skip = json['skip'];
        take = json['take'];
        after = json['after'];
        exactTotal = json['exactTotal'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'email': email,
        'name': name,
        'accountId': accountId,
        'role': role,
        'skip': skip,
        'take': take,
        'after': after,
        'exactTotal': exactTotal
    };

    createResponse() => ListUsersResponse();
    getResponseTypeName() => "ListUsersResponse";
    getTypeName() => "ListUsers";
    TypeContext? context = _ctx;
}

class ListUsersResponse implements IConvertible
{
    int? total;

    int? skip;

    List<UserInfo>? results;

    ResponseStatus? responseStatus;

    String? next;

    String? totalKind;

    ListUsersResponse({this.total,this.skip,this.results,this.responseStatus,this.next,this.totalKind});
    ListUsersResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        total = json['total'];
        skip = json['skip'];
        results = JsonConverters.fromJson(json['results'],'List<UserInfo>',context!);
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        next = json['next'];
        totalKind = json['totalKind'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'total': total,
        'skip': skip,
        'results': JsonConverters.toJson(results,'List<UserInfo>',context!),
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!),
        'next': next,
        'totalKind': totalKind
    };

    getTypeName() => "ListUsersResponse";
    TypeContext? context = _ctx;
}

/**
* Delete the specified login
*/
// @Route("/users/{userId}", "DELETE")
// @Api(Description="Delete the specified login")
class DeleteUser implements IReturn<DeleteUserResponse>, IDelete, IConvertible
{
    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    String? userId;

    DeleteUser({this.userId});
    DeleteUser.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        userId = json['userId'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'userId': userId
    };

    createResponse() => DeleteUserResponse();
    getResponseTypeName() => "DeleteUserResponse";
    getTypeName() => "DeleteUser";
    TypeContext? context = _ctx;
}

class DeleteUserResponse implements IConvertible
{
    String? id;

    ResponseStatus? responseStatus;

    DeleteUserResponse({this.id,this.responseStatus});
    DeleteUserResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        id = json['id'];
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'id': id,
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!)
    };

    getTypeName() => "DeleteUserResponse";
    TypeContext? context = _ctx;
}

/**
* Create users in bulk with their roles, organizations and stored password hashes (up to 1000 a call, one transaction); a user that exists with the same data is left as it is, every other row that cannot be created is refused with its number and the reason
*/
// @Route("/users/import", "POST")
// @Api(Description="Create users in bulk with their roles, organizations and stored password hashes (up to 1000 a call, one transaction); a user that exists with the same data is left as it is, every other row that cannot be created is refused with its number and the reason")
class ImportUsers implements IReturn<ImportUsersResponse>, IPost, IConvertible
{
    /**
    * The users to create, at most 1000 a call, committed together
    */
    // @ApiMember(Description="The users to create, at most 1000 a call, committed together")
    List<UserRecord>? users;

    ImportUsers({this.users});
    ImportUsers.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        users = JsonConverters.fromJson(json['users'],'List<UserRecord>',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'users': JsonConverters.toJson(users,'List<UserRecord>',context!)
    };

    createResponse() => ImportUsersResponse();
    getResponseTypeName() => "ImportUsersResponse";
    getTypeName() => "ImportUsers";
    TypeContext? context = _ctx;
}

class UserRecord implements IConvertible
{
    /**
    * The user's email address (the key: unique in any letter case)
    */
    // @ApiMember(Description="The user's email address (the key: unique in any letter case)")
    String? emailAddress;

    /**
    * The user's first name
    */
    // @ApiMember(Description="The user's first name")
    String? firstName;

    /**
    * The user's last name
    */
    // @ApiMember(Description="The user's last name")
    String? lastName;

    /**
    * The user's phone number
    */
    // @ApiMember(Description="The user's phone number")
    String? phoneNumber;

    /**
    * The user's roles
    */
    // @ApiMember(Description="The user's roles")
    List<String>? roles;

    /**
    * The organizations the user belongs to (the first is the primary one)
    */
    // @ApiMember(Description="The organizations the user belongs to (the first is the primary one)")
    List<String>? accountIds;

    /**
    * The stored password hash: argon2id/argon2i PHC, bcrypt $2a$/$2b$/$2y$, PBKDF2 PHC, ASP.NET Identity v2/v3; none: the user is created disabled until a password is set
    */
    // @ApiMember(Description="The stored password hash: argon2id/argon2i PHC, bcrypt $2a$/$2b$/$2y$, PBKDF2 PHC, ASP.NET Identity v2/v3; none: the user is created disabled until a password is set")
    String? passwordHash;

    /**
    * Import: the row's number in its file, named in its refusal
    */
    // @ApiMember(Description="Import: the row's number in its file, named in its refusal")
    int? row;

    UserRecord({this.emailAddress,this.firstName,this.lastName,this.phoneNumber,this.roles,this.accountIds,this.passwordHash,this.row});
    UserRecord.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        emailAddress = json['emailAddress'];
        firstName = json['firstName'];
        lastName = json['lastName'];
        phoneNumber = json['phoneNumber'];
        roles = JsonConverters.fromJson(json['roles'],'List<String>',context!);
        accountIds = JsonConverters.fromJson(json['accountIds'],'List<String>',context!);
        passwordHash = json['passwordHash'];
        row = json['row'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'emailAddress': emailAddress,
        'firstName': firstName,
        'lastName': lastName,
        'phoneNumber': phoneNumber,
        'roles': JsonConverters.toJson(roles,'List<String>',context!),
        'accountIds': JsonConverters.toJson(accountIds,'List<String>',context!),
        'passwordHash': passwordHash,
        'row': row
    };

    getTypeName() => "UserRecord";
    TypeContext? context = _ctx;
}

class ImportUsersResponse implements IConvertible
{
    int? created;

    int? unchanged;

    int? refused;

    List<ImportRefusal>? refusals;

    ResponseStatus? responseStatus;

    ImportUsersResponse({this.created,this.unchanged,this.refused,this.refusals,this.responseStatus});
    ImportUsersResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        created = json['created'];
        unchanged = json['unchanged'];
        refused = json['refused'];
        refusals = JsonConverters.fromJson(json['refusals'],'List<ImportRefusal>',context!);
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'created': created,
        'unchanged': unchanged,
        'refused': refused,
        'refusals': JsonConverters.toJson(refusals,'List<ImportRefusal>',context!),
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!)
    };

    getTypeName() => "ImportUsersResponse";
    TypeContext? context = _ctx;
}

class ImportRefusal implements IConvertible
{
    int? row;

    String? emailAddress;

    String? fieldName;

    String? errorCode;

    String? message;

    ImportRefusal({this.row,this.emailAddress,this.fieldName,this.errorCode,this.message});
    ImportRefusal.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        row = json['row'];
        emailAddress = json['emailAddress'];
        fieldName = json['fieldName'];
        errorCode = json['errorCode'];
        message = json['message'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'row': row,
        'emailAddress': emailAddress,
        'fieldName': fieldName,
        'errorCode': errorCode,
        'message': message
    };

    getTypeName() => "ImportRefusal";
    TypeContext? context = _ctx;
}

/**
* Every user, a page at a time in the order of their ids, in the shape ImportUsers takes; password hashes only for Admin and only when asked
*/
// @Route("/users/export", "GET")
// @Api(Description="Every user, a page at a time in the order of their ids, in the shape ImportUsers takes; password hashes only for Admin and only when asked")
class ExportUsers implements IReturn<ExportUsersResponse>, IGet, IConvertible
{
    /**
    * The cursor of the previous page (its next); none: from the first user
    */
    // @ApiMember(Description="The cursor of the previous page (its next); none: from the first user")
    String? after;

    /**
    * How many users (default 500, at most 1000)
    */
    // @ApiMember(Description="How many users (default 500, at most 1000)")
    int? take;

    /**
    * Include each user's stored password hash (Admin only)
    */
    // @ApiMember(Description="Include each user's stored password hash (Admin only)")
    bool? includePasswordHashes;

    ExportUsers({this.after,this.take,this.includePasswordHashes});
    ExportUsers.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        after = json['after'];
        take = json['take'];
        includePasswordHashes = json['includePasswordHashes'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'after': after,
        'take': take,
        'includePasswordHashes': includePasswordHashes
    };

    createResponse() => ExportUsersResponse();
    getResponseTypeName() => "ExportUsersResponse";
    getTypeName() => "ExportUsers";
    TypeContext? context = _ctx;
}

class ExportUsersResponse implements IConvertible
{
    List<UserRecord>? results;

    String? next;

    ResponseStatus? responseStatus;

    ExportUsersResponse({this.results,this.next,this.responseStatus});
    ExportUsersResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        results = JsonConverters.fromJson(json['results'],'List<UserRecord>',context!);
        next = json['next'];
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'results': JsonConverters.toJson(results,'List<UserRecord>',context!),
        'next': next,
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!)
    };

    getTypeName() => "ExportUsersResponse";
    TypeContext? context = _ctx;
}

// @Route("/user", "PUT")
class UpdateBusinessUser implements IReturn<BusinessUserProfileDataResponse>, IPut, IConvertible
{
    /**
    * ID of the user whose data is to be updated.
    */
    // @ApiMember(Description="ID of the user whose data is to be updated.", IsRequired=true)
    int? userId;

    /**
    * The user's first name.
    */
    // @ApiMember(Description="The user's first name.", IsRequired=true)
    String? firstName;

    /**
    * The user's last name.
    */
    // @ApiMember(Description="The user's last name.", IsRequired=true)
    String? lastName;

    /**
    * The user's email address.
    */
    // @ApiMember(Description="The user's email address.", IsRequired=true)
    String? email;

    /**
    * The user's phone number.
    */
    // @ApiMember(Description="The user's phone number.")
    String? phoneNumber;

    /**
    * The user's roles.
    */
    // @ApiMember(Description="The user's roles.", IsRequired=true)
    List<String>? roles;

    /**
    * Optional association to a Viviot user.
    */
    // @ApiMember(Description="Optional association to a Viviot user.")
    String? viviotId;

    /**
    * Api version
    */
    // @ApiMember(Description="Api version")
    int? version;

    UpdateBusinessUser({this.userId,this.firstName,this.lastName,this.email,this.phoneNumber,this.roles,this.viviotId,this.version});
    UpdateBusinessUser.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        userId = json['userId'];
        firstName = json['firstName'];
        lastName = json['lastName'];
        email = json['email'];
        phoneNumber = json['phoneNumber'];
        roles = JsonConverters.fromJson(json['roles'],'List<String>',context!);
        viviotId = json['viviotId'];
        version = json['version'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'userId': userId,
        'firstName': firstName,
        'lastName': lastName,
        'email': email,
        'phoneNumber': phoneNumber,
        'roles': JsonConverters.toJson(roles,'List<String>',context!),
        'viviotId': viviotId,
        'version': version
    };

    createResponse() => BusinessUserProfileDataResponse();
    getResponseTypeName() => "BusinessUserProfileDataResponse";
    getTypeName() => "UpdateBusinessUser";
    TypeContext? context = _ctx;
}

class BusinessUserProfileDataResponse implements IConvertible
{
    BusinessUserProfileDataView? data;

    ResponseStatus? responseStatus;

    BusinessUserProfileDataResponse({this.data,this.responseStatus});
    BusinessUserProfileDataResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        data = JsonConverters.fromJson(json['data'],'BusinessUserProfileDataView',context!);
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'data': JsonConverters.toJson(data,'BusinessUserProfileDataView',context!),
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!)
    };

    getTypeName() => "BusinessUserProfileDataResponse";
    TypeContext? context = _ctx;
}

class BusinessUserProfileDataView implements IConvertible
{
    int? id;

    ActivationStatus? activationStatus;

    String? userName;

    String? firstName;

    String? lastName;

    String? email;

    String? temporaryEmail;

    bool? emailConfirmed;

    String? phoneNumber;

    String? temporaryPhoneNumber;

    bool? phoneNumberConfirmed;

    List<String>? roles;

    String? organizationId;

    List<OrganizationBasicView>? businessOrganizations;

    String? viviotId;

    String? imageContent;

    String? imageUrl;

    BusinessUserProfileDataView({this.id,this.activationStatus,this.userName,this.firstName,this.lastName,this.email,this.temporaryEmail,this.emailConfirmed,this.phoneNumber,this.temporaryPhoneNumber,this.phoneNumberConfirmed,this.roles,this.organizationId,this.businessOrganizations,this.viviotId,this.imageContent,this.imageUrl});
    BusinessUserProfileDataView.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        id = json['id'];
        activationStatus = JsonConverters.fromJson(json['activationStatus'],'ActivationStatus',context!);
        userName = json['userName'];
        firstName = json['firstName'];
        lastName = json['lastName'];
        email = json['email'];
        temporaryEmail = json['temporaryEmail'];
        emailConfirmed = json['emailConfirmed'];
        phoneNumber = json['phoneNumber'];
        temporaryPhoneNumber = json['temporaryPhoneNumber'];
        phoneNumberConfirmed = json['phoneNumberConfirmed'];
        roles = JsonConverters.fromJson(json['roles'],'List<String>',context!);
        organizationId = json['organizationId'];
        businessOrganizations = JsonConverters.fromJson(json['businessOrganizations'],'List<OrganizationBasicView>',context!);
        viviotId = json['viviotId'];
        imageContent = json['imageContent'];
        imageUrl = json['imageUrl'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'id': id,
        'activationStatus': JsonConverters.toJson(activationStatus,'ActivationStatus',context!),
        'userName': userName,
        'firstName': firstName,
        'lastName': lastName,
        'email': email,
        'temporaryEmail': temporaryEmail,
        'emailConfirmed': emailConfirmed,
        'phoneNumber': phoneNumber,
        'temporaryPhoneNumber': temporaryPhoneNumber,
        'phoneNumberConfirmed': phoneNumberConfirmed,
        'roles': JsonConverters.toJson(roles,'List<String>',context!),
        'organizationId': organizationId,
        'businessOrganizations': JsonConverters.toJson(businessOrganizations,'List<OrganizationBasicView>',context!),
        'viviotId': viviotId,
        'imageContent': imageContent,
        'imageUrl': imageUrl
    };

    getTypeName() => "BusinessUserProfileDataView";
    TypeContext? context = _ctx;
}

class ActivationStatus
{
    static const ActivationStatus Unconfirmed = const ActivationStatus._(0);
    static const ActivationStatus Temporary = const ActivationStatus._(10);
    static const ActivationStatus OwnershipConfirmed = const ActivationStatus._(20);
    static const ActivationStatus IdentityConfirmed = const ActivationStatus._(30);

    final int _value;
    const ActivationStatus._(this._value);
    int get value => _value;
    static List<ActivationStatus> get values => const [Unconfirmed,Temporary,OwnershipConfirmed,IdentityConfirmed];
}

class OrganizationBasicView implements IConvertible
{
    String? id;

    String? name;

    OrganizationType? type;

    // @DataMember(Name="organizations")
    List<OrganizationBasicView>? subOrganizations;

    OrganizationBasicView({this.id,this.name,this.type,this.subOrganizations});
    OrganizationBasicView.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        id = json['id'];
        name = json['name'];
        type = JsonConverters.fromJson(json['type'],'OrganizationType',context!);
        subOrganizations = JsonConverters.fromJson(json['organizations'],'List<OrganizationBasicView>',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'id': id,
        'name': name,
        'type': JsonConverters.toJson(type,'OrganizationType',context!),
        'organizations': JsonConverters.toJson(subOrganizations,'List<OrganizationBasicView>',context!)
    };

    getTypeName() => "OrganizationBasicView";
    TypeContext? context = _ctx;
}

class OrganizationType
{
    static const OrganizationType Unknown = const OrganizationType._(0);
    static const OrganizationType Admin = const OrganizationType._(10);
    static const OrganizationType Tenant = const OrganizationType._(20);
    static const OrganizationType Location = const OrganizationType._(30);

    final int _value;
    const OrganizationType._(this._value);
    int get value => _value;
    static List<OrganizationType> get values => const [Unknown,Admin,Tenant,Location];
}

/**
* Create an organization, optionally under a parent organization
*/
// @Route("/organizations", "POST")
// @Api(Description="Create an organization, optionally under a parent organization")
class CreateOrganization implements IReturn<Organization>, IPost, IConvertible
{
    /**
    * The organization's name
    */
    // @ApiMember(Description="The organization's name", IsRequired=true)
    String? name;

    /**
    * The kind of organization
    */
    // @ApiMember(Description="The kind of organization")
    OrganizationType? type;

    /**
    * The parent organization, if any
    */
    // @ApiMember(Description="The parent organization, if any")
    String? parentId;

    CreateOrganization({this.name,this.type,this.parentId});
    CreateOrganization.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        name = json['name'];
        type = JsonConverters.fromJson(json['type'],'OrganizationType',context!);
        parentId = json['parentId'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'name': name,
        'type': JsonConverters.toJson(type,'OrganizationType',context!),
        'parentId': parentId
    };

    createResponse() => Organization();
    getResponseTypeName() => "Organization";
    getTypeName() => "CreateOrganization";
    TypeContext? context = _ctx;
}

class Organization implements IConvertible
{
    String? id;

    String? name;

    OrganizationType? type;

    String? parentId;

    int? memberCount;

    Organization({this.id,this.name,this.type,this.parentId,this.memberCount});
    Organization.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        id = json['id'];
        name = json['name'];
        type = JsonConverters.fromJson(json['type'],'OrganizationType',context!);
        parentId = json['parentId'];
        memberCount = json['memberCount'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'id': id,
        'name': name,
        'type': JsonConverters.toJson(type,'OrganizationType',context!),
        'parentId': parentId,
        'memberCount': memberCount
    };

    getTypeName() => "Organization";
    TypeContext? context = _ctx;
}

/**
* Get the specified organization
*/
// @Route("/organizations/{id}", "GET")
// @Api(Description="Get the specified organization")
class GetOrganization implements IReturn<Organization>, IGet, IConvertible
{
    /**
    * The ID of the organization
    */
    // @ApiMember(Description="The ID of the organization")
    String? id;

    GetOrganization({this.id});
    GetOrganization.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        id = json['id'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'id': id
    };

    createResponse() => Organization();
    getResponseTypeName() => "Organization";
    getTypeName() => "GetOrganization";
    TypeContext? context = _ctx;
}

/**
* List the organizations the caller can see
*/
// @Route("/organizations", "GET")
// @Api(Description="List the organizations the caller can see")
class ListOrganizations implements IReturn<ListOrganizationsResponse>, IGet, IConvertible
{
    /**
    * Only the direct children of this organization
    */
    // @ApiMember(Description="Only the direct children of this organization")
    String? parentId;

    /**
    * How many organizations to skip
    */
    // @ApiMember(Description="How many organizations to skip")
    int? skip;

    /**
    * How many to return (default 50, at most 1000)
    */
    // @ApiMember(Description="How many to return (default 50, at most 1000)")
    int? take;

    /**
    * Start after this cursor (the next of the previous page); skip then counts from there
    */
    // @ApiMember(Description="Start after this cursor (the next of the previous page); skip then counts from there")
    String? after;

    ListOrganizations({this.parentId,this.skip,this.take,this.after});
    ListOrganizations.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        parentId = json['parentId'];
        skip = json['skip'];
        take = json['take'];
        after = json['after'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'parentId': parentId,
        'skip': skip,
        'take': take,
        'after': after
    };

    createResponse() => ListOrganizationsResponse();
    getResponseTypeName() => "ListOrganizationsResponse";
    getTypeName() => "ListOrganizations";
    TypeContext? context = _ctx;
}

class ListOrganizationsResponse implements IConvertible
{
    int? total;

    int? skip;

    List<Organization>? results;

    ResponseStatus? responseStatus;

    String? next;

    ListOrganizationsResponse({this.total,this.skip,this.results,this.responseStatus,this.next});
    ListOrganizationsResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        total = json['total'];
        skip = json['skip'];
        results = JsonConverters.fromJson(json['results'],'List<Organization>',context!);
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        next = json['next'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'total': total,
        'skip': skip,
        'results': JsonConverters.toJson(results,'List<Organization>',context!),
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!),
        'next': next
    };

    getTypeName() => "ListOrganizationsResponse";
    TypeContext? context = _ctx;
}

/**
* Make a user a member of an organization
*/
// @Route("/organizations/{organizationId}/members/{userId}", "POST")
// @Api(Description="Make a user a member of an organization")
class AddOrganizationMember implements IReturn<OrganizationMemberResponse>, IPost, IConvertible
{
    /**
    * The ID of the organization
    */
    // @ApiMember(Description="The ID of the organization")
    String? organizationId;

    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    String? userId;

    AddOrganizationMember({this.organizationId,this.userId});
    AddOrganizationMember.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        organizationId = json['organizationId'];
        userId = json['userId'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'organizationId': organizationId,
        'userId': userId
    };

    createResponse() => OrganizationMemberResponse();
    getResponseTypeName() => "OrganizationMemberResponse";
    getTypeName() => "AddOrganizationMember";
    TypeContext? context = _ctx;
}

class OrganizationMemberResponse implements IConvertible
{
    String? organizationId;

    String? userId;

    ResponseStatus? responseStatus;

    OrganizationMemberResponse({this.organizationId,this.userId,this.responseStatus});
    OrganizationMemberResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        organizationId = json['organizationId'];
        userId = json['userId'];
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'organizationId': organizationId,
        'userId': userId,
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!)
    };

    getTypeName() => "OrganizationMemberResponse";
    TypeContext? context = _ctx;
}

/**
* Remove a user from an organization
*/
// @Route("/organizations/{organizationId}/members/{userId}", "DELETE")
// @Api(Description="Remove a user from an organization")
class RemoveOrganizationMember implements IReturn<OrganizationMemberResponse>, IDelete, IConvertible
{
    /**
    * The ID of the organization
    */
    // @ApiMember(Description="The ID of the organization")
    String? organizationId;

    /**
    * The ID of the user
    */
    // @ApiMember(Description="The ID of the user")
    String? userId;

    RemoveOrganizationMember({this.organizationId,this.userId});
    RemoveOrganizationMember.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        organizationId = json['organizationId'];
        userId = json['userId'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'organizationId': organizationId,
        'userId': userId
    };

    createResponse() => OrganizationMemberResponse();
    getResponseTypeName() => "OrganizationMemberResponse";
    getTypeName() => "RemoveOrganizationMember";
    TypeContext? context = _ctx;
}

/**
* Sign in with a user name and password
*/
// @Route("/auth/credentials", "POST")
// @Route("/auth", "POST")
// @Api(Description="Sign in with a user name and password")
class Authenticate implements IReturn<AuthenticateResponse>, IPost, IConvertible
{
    /**
    * The auth provider: credentials
    */
    // @ApiMember(Description="The auth provider: credentials")
    String? provider;

    /**
    * The email address of the user
    */
    // @ApiMember(Description="The email address of the user", IsRequired=true)
    String? userName;

    /**
    * The user's password
    */
    // @ApiMember(Description="The user's password", IsRequired=true)
    String? password;

    /**
    * Keep the session after the browser closes
    */
    // @ApiMember(Description="Keep the session after the browser closes")
    bool? rememberMe;

    Authenticate({this.provider,this.userName,this.password,this.rememberMe});
    Authenticate.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        provider = json['provider'];
        userName = json['userName'];
        password = json['password'];
        rememberMe = json['rememberMe'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'provider': provider,
        'userName': userName,
        'password': password,
        'rememberMe': rememberMe
    };

    createResponse() => AuthenticateResponse();
    getResponseTypeName() => "AuthenticateResponse";
    getTypeName() => "Authenticate";
    TypeContext? context = _ctx;
}

class AuthenticateResponse implements IConvertible
{
    String? userId;

    String? sessionId;

    String? userName;

    String? displayName;

    String? referrerUrl;

    String? bearerToken;

    String? refreshToken;

    List<String>? roles;

    List<String>? permissions;

    ResponseStatus? responseStatus;

    AuthenticateResponse({this.userId,this.sessionId,this.userName,this.displayName,this.referrerUrl,this.bearerToken,this.refreshToken,this.roles,this.permissions,this.responseStatus});
    AuthenticateResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        userId = json['userId'];
        sessionId = json['sessionId'];
        userName = json['userName'];
        displayName = json['displayName'];
        referrerUrl = json['referrerUrl'];
        bearerToken = json['bearerToken'];
        refreshToken = json['refreshToken'];
        roles = JsonConverters.fromJson(json['roles'],'List<String>',context!);
        permissions = JsonConverters.fromJson(json['permissions'],'List<String>',context!);
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        return this;
    }

    Map<String, dynamic> toJson() => {
        'userId': userId,
        'sessionId': sessionId,
        'userName': userName,
        'displayName': displayName,
        'referrerUrl': referrerUrl,
        'bearerToken': bearerToken,
        'refreshToken': refreshToken,
        'roles': JsonConverters.toJson(roles,'List<String>',context!),
        'permissions': JsonConverters.toJson(permissions,'List<String>',context!),
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!)
    };

    getTypeName() => "AuthenticateResponse";
    TypeContext? context = _ctx;
}

/**
* Trade a refresh token for a new bearer token and the next refresh token; each refresh token is used once
*/
// @Route("/access-token", "POST")
// @Api(Description="Trade a refresh token for a new bearer token and the next refresh token; each refresh token is used once")
class GetAccessToken implements IReturn<GetAccessTokenResponse>, IPost, IConvertible
{
    /**
    * The refresh token from Authenticate
    */
    // @ApiMember(Description="The refresh token from Authenticate", IsRequired=true)
    String? refreshToken;

    GetAccessToken({this.refreshToken});
    GetAccessToken.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        refreshToken = json['refreshToken'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'refreshToken': refreshToken
    };

    createResponse() => GetAccessTokenResponse();
    getResponseTypeName() => "GetAccessTokenResponse";
    getTypeName() => "GetAccessToken";
    TypeContext? context = _ctx;
}

class GetAccessTokenResponse implements IConvertible
{
    String? accessToken;

    ResponseStatus? responseStatus;

    String? refreshToken;

    GetAccessTokenResponse({this.accessToken,this.responseStatus,this.refreshToken});
    GetAccessTokenResponse.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        accessToken = json['accessToken'];
        responseStatus = JsonConverters.fromJson(json['responseStatus'],'ResponseStatus',context!);
        refreshToken = json['refreshToken'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'accessToken': accessToken,
        'responseStatus': JsonConverters.toJson(responseStatus,'ResponseStatus',context!),
        'refreshToken': refreshToken
    };

    getTypeName() => "GetAccessTokenResponse";
    TypeContext? context = _ctx;
}

/**
* Sign out: revoke the refresh token and every token refreshed from the same sign-in
*/
// @Route("/auth/logout", "POST")
// @Api(Description="Sign out: revoke the refresh token and every token refreshed from the same sign-in")
class Logout implements IReturn<AuthenticateResponse>, IPost, IConvertible
{
    /**
    * The refresh token whose sign-in ends (the ss-reftok cookie when absent)
    */
    // @ApiMember(Description="The refresh token whose sign-in ends (the ss-reftok cookie when absent)")
    String? refreshToken;

    Logout({this.refreshToken});
    Logout.fromJson(Map<String, dynamic> json) { fromMap(json); }

    fromMap(Map<String, dynamic> json) {
        refreshToken = json['refreshToken'];
        return this;
    }

    Map<String, dynamic> toJson() => {
        'refreshToken': refreshToken
    };

    createResponse() => AuthenticateResponse();
    getResponseTypeName() => "AuthenticateResponse";
    getTypeName() => "Logout";
    TypeContext? context = _ctx;
}

TypeContext _ctx = TypeContext(library: 'localhost:8080', types: <String, TypeInfo> {
    'NewUser': TypeInfo(TypeOf.Class, create:() => NewUser()),
    'UserInfo': TypeInfo(TypeOf.Class, create:() => UserInfo()),
    'UserManagerAccess': TypeInfo(TypeOf.Enum, enumValues:UserManagerAccess.values),
    'DashboardPermissions': TypeInfo(TypeOf.Enum, enumValues:DashboardPermissions.values),
    'PatchUser': TypeInfo(TypeOf.Class, create:() => PatchUser()),
    'GetUser': TypeInfo(TypeOf.Class, create:() => GetUser()),
    'ListUsers': TypeInfo(TypeOf.Class, create:() => ListUsers()),
    'ListUsersResponse': TypeInfo(TypeOf.Class, create:() => ListUsersResponse()),
    'DeleteUser': TypeInfo(TypeOf.Class, create:() => DeleteUser()),
    'DeleteUserResponse': TypeInfo(TypeOf.Class, create:() => DeleteUserResponse()),
    'ImportUsers': TypeInfo(TypeOf.Class, create:() => ImportUsers()),
    'UserRecord': TypeInfo(TypeOf.Class, create:() => UserRecord()),
    'ImportUsersResponse': TypeInfo(TypeOf.Class, create:() => ImportUsersResponse()),
    'ImportRefusal': TypeInfo(TypeOf.Class, create:() => ImportRefusal()),
    'ExportUsers': TypeInfo(TypeOf.Class, create:() => ExportUsers()),
    'ExportUsersResponse': TypeInfo(TypeOf.Class, create:() => ExportUsersResponse()),
    'UpdateBusinessUser': TypeInfo(TypeOf.Class, create:() => UpdateBusinessUser()),
    'BusinessUserProfileDataResponse': TypeInfo(TypeOf.Class, create:() => BusinessUserProfileDataResponse()),
    'BusinessUserProfileDataView': TypeInfo(TypeOf.Class, create:() => BusinessUserProfileDataView()),
    'ActivationStatus': TypeInfo(TypeOf.Enum, enumValues:ActivationStatus.values),
    'OrganizationBasicView': TypeInfo(TypeOf.Class, create:() => OrganizationBasicView()),
    'OrganizationType': TypeInfo(TypeOf.Enum, enumValues:OrganizationType.values),
    'CreateOrganization': TypeInfo(TypeOf.Class, create:() => CreateOrganization()),
    'Organization': TypeInfo(TypeOf.Class, create:() => Organization()),
    'GetOrganization': TypeInfo(TypeOf.Class, create:() => GetOrganization()),
    'ListOrganizations': TypeInfo(TypeOf.Class, create:() => ListOrganizations()),
    'ListOrganizationsResponse': TypeInfo(TypeOf.Class, create:() => ListOrganizationsResponse()),
    'AddOrganizationMember': TypeInfo(TypeOf.Class, create:() => AddOrganizationMember()),
    'OrganizationMemberResponse': TypeInfo(TypeOf.Class, create:() => OrganizationMemberResponse()),
    'RemoveOrganizationMember': TypeInfo(TypeOf.Class, create:() => RemoveOrganizationMember()),
    'Authenticate': TypeInfo(TypeOf.Class, create:() => Authenticate()),
    'AuthenticateResponse': TypeInfo(TypeOf.Class, create:() => AuthenticateResponse()),
    'GetAccessToken': TypeInfo(TypeOf.Class, create:() => GetAccessToken()),
    'GetAccessTokenResponse': TypeInfo(TypeOf.Class, create:() => GetAccessTokenResponse()),
    'Logout': TypeInfo(TypeOf.Class, create:() => Logout()),
});
